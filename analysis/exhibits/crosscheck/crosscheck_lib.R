# ---- Helpers: the fixed part of every generated cross-check script -------------------

# The folder of this script (Rscript passes --file=...), else the working directory.
script_folder <- function() {
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file) == 1L) dirname(normalizePath(file)) else getwd()
}

# The analysis data: every column numeric, an empty cell missing. A categorical variable is
# stored as codes 1..K and becomes a factor whose first level (code 1) is the base category,
# as the package's treatment dummies and Stata's i.var.
read_analysis_data <- function(path, labels) {
  if (!file.exists(path)) stop("analysis data not found: ", path, " (run `uv run run_all.py`)")
  data <- utils::read.csv(path, colClasses = "numeric", na.strings = "", check.names = FALSE)
  for (v in names(labels)) {
    data[[v]] <- factor(data[[v]], levels = seq_along(labels[[v]]), labels = labels[[v]])
  }
  data
}

# Listwise deletion on the model's variables; rows with weight 0 are left out, as in Stata.
estimation_sample <- function(data, variables, weight = NULL) {
  keep <- stats::complete.cases(data[, variables, drop = FALSE])
  if (!is.null(weight)) keep <- keep & data[[weight]] > 0
  data[keep, , drop = FALSE]
}

# Non-integer case weights make R warn that binomial counts are not whole numbers; the
# weighted (pseudo) likelihood is still the one Stata maximises with [pw=]. Only that warning
# is silenced.
allow_noninteger_weights <- function(expr) {
  withCallingHandlers(expr, warning = function(w) {
    if (grepl("non-integer", conditionMessage(w))) invokeRestart("muffleWarning")
  })
}

# Frequency weights: the model-based (inverse-information) covariance is that of the
# data with each record repeated; a sandwich needs the meat sum_i f_i s_i s_i' (sum of f_i
# s_i within clusters), while sandwich::estfun returns f_i s_i.
fweight_meat <- function(scores, f, cluster = NULL) {
  if (is.null(cluster)) return(crossprod(scores / sqrt(f)))
  crossprod(rowsum(scores, cluster, reorder = FALSE))
}

# A sandwich from a bread (the inverse Hessian) and scores; with a cluster variable the
# scores are summed within clusters first. Used for polr, whose n is the sum of the weights
# (sandwich::vcovHC would rescale by it), and for frequency weights.
sandwich_vcov <- function(bread, meat) {
  V <- bread %*% meat %*% bread
  (V + t(V)) / 2
}

cluster_meat <- function(scores, cluster = NULL) {
  if (is.null(cluster)) return(crossprod(scores))
  crossprod(rowsum(scores, cluster, reorder = FALSE))
}

# glm's IRLS stops on the deviance (relative change below epsilon). That leaves a probit's
# coefficients (Fisher scoring converges only linearly off the canonical link) up to 1e-8
# from the maximum, and any glm's covariance one step behind its coefficients. Passes
# started at the estimates continue until the coefficients stop moving.
settle <- function(fit, where = parent.frame()) {
  for (pass in 1:50) {
    before <- stats::coef(fit)
    call <- stats::getCall(fit)
    call$start <- unname(before)  # the values themselves: svyglm evaluates the call elsewhere
    fit <- allow_noninteger_weights(eval(call, where))
    if (max(abs(stats::coef(fit) - before) / (1 + abs(before))) < 1e-13) return(fit)
  }
  warning("glm: the coefficients still move after 50 passes")
  fit
}

# Stata (and the package) take ML standard errors from the observed information, the
# Hessian of the log likelihood; glm reports the expected (Fisher) information, the same for
# a logit but not for a probit. The inverse observed information of a logit or probit glm:
observed_bread <- function(fit) {
  X <- stats::model.matrix(fit)
  q <- fit$linear.predictors
  w <- stats::weights(fit, "prior")
  if (fit$family$link == "logit") {
    h <- stats::dlogis(q)
  } else {
    z <- ifelse(fit$y == 1, q, -q)
    mills <- exp(stats::dnorm(z, log = TRUE) - stats::pnorm(z, log.p = TRUE))
    h <- mills * (mills + z)
  }
  B <- solve(crossprod(X, X * (w * h)))
  (B + t(B)) / 2
}

# Design-based covariance around a given bread: R's own linearisation (survey::svyrecvar)
# of the weighted scores of a binary svyglm. Stata's svy: probit takes the observed
# information as the bread, where svyglm's vcov takes the expected one.
design_vcov <- function(fit, des, bread) {
  X <- stats::model.matrix(fit)
  q <- fit$linear.predictors
  w <- stats::weights(fit, "prior")
  if (fit$family$link == "logit") {
    r <- fit$y - stats::plogis(q)
  } else {
    s <- 2 * fit$y - 1
    r <- s * exp(stats::dnorm(s * q, log = TRUE) - stats::pnorm(s * q, log.p = TRUE))
  }
  V <- survey::svyrecvar((X * (w * r)) %*% bread, des$cluster, des$strata, des$fpc)
  V <- unname(as.matrix(V))
  dimnames(V) <- dimnames(bread)
  (V + t(V)) / 2
}

# The package's term names of a model matrix: "(Intercept)" -> "const", the dummies of a
# factor v at level l -> "v[l]", other columns keep the variable's name.
package_names <- function(X, formula, data) {
  labels <- attr(stats::terms(formula), "term.labels")
  assign <- attr(X, "assign")
  vapply(seq_len(ncol(X)), function(j) {
    if (assign[j] == 0L) return("const")
    v <- labels[assign[j]]
    if (is.factor(data[[v]])) paste0(v, "[", substring(colnames(X)[j], nchar(v) + 1L), "]")
    else v
  }, character(1))
}

# The regressors of a model as the package names them, with the dummies of each factor.
model_matrix <- function(formula, data, intercept = TRUE) {
  X <- stats::model.matrix(formula, data)
  colnames(X) <- package_names(X, formula, data)
  if (!intercept) X <- X[, colnames(X) != "const", drop = FALSE]
  X
}

factor_groups <- function(names, factors) {
  lapply(factors, function(v) names[startsWith(names, paste0(v, "["))])
}

# The columns set to 0 for the counterfactuals of a discrete change in term t: t itself,
# and the other dummies of its factor (so the change runs from the base category).
discrete_columns <- function(t, binary, groups) {
  for (g in groups) if (t %in% g) return(g)
  if (t %in% binary) t else NULL
}

LINKS <- list(
  logit = list(cdf = stats::plogis, pdf = stats::dlogis),
  probit = list(cdf = stats::pnorm, pdf = stats::dnorm),
  identity = list(cdf = function(q) q, pdf = function(q) rep(1, length(q)))
)

# Average marginal effects of a binary (or linear probability) model at coefficients beta:
# for a continuous term mean(f(x'b)) b_j; for a 0/1 term or a factor dummy the mean of
# F(x'b | x_j = 1) - F(x'b | x_j = 0), the other dummies of its factor at 0 (Stata's
# margins, dydx(*) with i.var). Means are weighted by the model's weights.
ame_index <- function(beta, X, w, link, binary, groups) {
  q <- drop(X %*% beta)
  terms <- setdiff(colnames(X), "const")
  vapply(terms, function(t) {
    zero <- discrete_columns(t, binary, groups)
    if (is.null(zero)) return(stats::weighted.mean(link$pdf(q), w) * beta[[t]])
    X0 <- X
    X0[, zero] <- 0
    X1 <- X0
    X1[, t] <- 1
    stats::weighted.mean(link$cdf(drop(X1 %*% beta)) - link$cdf(drop(X0 %*% beta)), w)
  }, numeric(1))
}

# The same for an ordered model (theta = slopes, then cut points), on the probability of
# the top category, P(y = top) = 1 - F(cut_last - x'b).
ame_ordered <- function(theta, X, w, link, binary, groups) {
  beta <- theta[seq_len(ncol(X))]
  top <- theta[[length(theta)]]
  p_top <- function(X) link$cdf(top - drop(X %*% beta), lower.tail = FALSE)
  q <- drop(X %*% beta)
  vapply(colnames(X), function(t) {
    zero <- discrete_columns(t, binary, groups)
    if (is.null(zero)) return(stats::weighted.mean(link$pdf(top - q), w) * beta[[t]])
    X0 <- X
    X0[, zero] <- 0
    X1 <- X0
    X1[, t] <- 1
    stats::weighted.mean(p_top(X1) - p_top(X0), w)
  }, numeric(1))
}

# Central-difference Jacobian of a vector function of the parameters.
numeric_jacobian <- function(fun, theta) {
  J <- vapply(seq_along(theta), function(p) {
    h <- 1e-6 * max(1, abs(theta[[p]]))
    up <- theta
    down <- theta
    up[p] <- up[p] + h
    down[p] <- down[p] - h
    (fun(up) - fun(down)) / (2 * h)
  }, numeric(length(fun(theta))))
  matrix(J, ncol = length(theta))
}

# Estimates and delta-method standard errors of fun(theta), Var(theta) = V.
delta_method <- function(fun, theta, V) {
  J <- numeric_jacobian(fun, theta)
  list(estimate = fun(theta), std_error = sqrt(diag(J %*% V %*% t(J))))
}

result_rows <- function(model, quantity, estimate, std_error = NA_real_) {
  data.frame(model = model, quantity = quantity, term = names(estimate),
             estimate = unname(estimate), std_error = unname(std_error),
             stringsAsFactors = FALSE)
}

# Coefficients, AMEs and fit statistics of a logit, probit or linear probability model.
# beta and V come from the fit (V: the covariance of the SE type asked for).
index_results <- function(model, formula, d, beta, V, link, w, binary, factors, nobs,
                          fit_rows) {
  X <- model_matrix(formula, d)
  names(beta) <- colnames(X)
  dimnames(V) <- list(colnames(X), colnames(X))
  groups <- factor_groups(colnames(X), factors)
  ame <- delta_method(function(b) ame_index(b, X, w, link, binary, groups), beta, V)
  rbind(result_rows(model, "coef", beta, sqrt(diag(V))),
        result_rows(model, "ame", ame$estimate, ame$std_error),
        result_rows(model, "fit", c(nobs = nobs, fit_rows)))
}

# The same for an ordered model: slopes, cut points (named "cut<lower>|<upper>" after the
# outcome values, as the package), AMEs on the top category, fit statistics.
ordered_results <- function(model, formula, d, beta, zeta, V, link, w, binary, factors,
                            nobs, llf) {
  X <- model_matrix(formula, d, intercept = FALSE)
  beta <- beta[seq_len(ncol(X))]  # svyolr's coef() holds the cut points too
  names(beta) <- colnames(X)
  levels <- levels(factor(d[[all.vars(formula)[1]]]))
  names(zeta) <- paste0("cut", head(levels, -1L), "|", levels[-1L])
  theta <- c(beta, zeta)
  dimnames(V) <- list(names(theta), names(theta))
  groups <- factor_groups(colnames(X), factors)
  ame <- delta_method(function(th) ame_ordered(th, X, w, link, binary, groups), theta, V)
  se <- sqrt(diag(V))
  rbind(result_rows(model, "coef", beta, se[names(beta)]),
        result_rows(model, "ame", ame$estimate, ame$std_error),
        result_rows(model, "cut", zeta, se[names(zeta)]),
        result_rows(model, "fit", c(nobs = nobs, llf = llf)))
}

# Log likelihood of a binary model (weighted: the pseudo log likelihood).
binary_llf <- function(y, q, link, w) {
  sum(w * link$cdf(ifelse(y == 1, q, -q), log.p = TRUE))
}

write_results <- function(results, path, fingerprint) {
  out <- do.call(rbind, results)
  out$fingerprint <- fingerprint
  text <- match(c("model", "quantity", "term", "fingerprint"), names(out))
  utils::write.csv(format_numbers(out), path, row.names = FALSE, na = "", quote = text)
  message("crosscheck: ", length(results), " model(s) refitted; results in ", path)
}

# Numbers at 17 significant digits, so the comparison sees every bit R computed.
format_numbers <- function(frame) {
  for (col in c("estimate", "std_error")) {
    frame[[col]] <- ifelse(is.na(frame[[col]]), NA, sprintf("%.17g", frame[[col]]))
  }
  frame
}

# polr maximises with BFGS; at its default reltol (1e-8) the estimates stop about 1e-5
# from the maximum. Tightened to 1e-15, with the parameters scaled by their regressors'
# standard deviations (parscale) and the step of the numerical Hessian (ndeps, default
# 1e-3) cut to 1e-6, slopes, cut points and SEs settle to about 1e-8 relative.
polr_control <- function(X, ncuts) {
  scale <- c(1 / apply(X, 2, stats::sd), rep(1, ncuts))
  list(reltol = 1e-15, maxit = 10000, parscale = scale, ndeps = rep(1e-6, length(scale)))
}

# R-squared of a linear probability model (weighted by w).
weighted_r2 <- function(y, fitted, w) {
  1 - sum(w * (y - fitted)^2) / sum(w * (y - stats::weighted.mean(y, w))^2)
}
