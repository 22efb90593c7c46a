"""Cross-check scripts: every model of the run refitted in the referee's own software.

From what the run estimated (``output/estimates/models.csv``), the model specification and
the analysis data, this package writes (text in, text out; no R or Stata needed):

- :mod:`.models`: one :class:`~.models.CheckModel` per model (outcome, regressors, factor and
  0/1 terms, estimator, SE type, cluster, weights, survey design) and the analysis data as a
  CSV with a typed schema that R and Stata both read;
- :mod:`.r_script`: ``crosscheck.R`` (base R ``glm``/``lm``, ``MASS::polr``, ``sandwich``,
  ``survey``; AMEs with delta-method SEs), its fixed helpers in ``crosscheck_lib.R``;
- :mod:`.stata_script`: ``crosscheck.do`` (``logit``, ``probit``, ``regress``, ``ologit``,
  ``oprobit``, ``[pw=]``/``[fw=]``, ``vce()``, ``svy:``, ``margins, dydx(*)``);
- :mod:`.compare`: every number of their results side by side with ours, and the largest
  relative difference per model.
"""

from pathlib import Path

#: The files of the crosscheck step (their names; the folders are the run's, see Paths).
R_SCRIPT = "crosscheck.R"
DO_FILE = "crosscheck.do"
#: The fixed R helpers crosscheck.R carries (read when the script is written).
LIBRARY = Path(__file__).with_name("crosscheck_lib.R")
#: What the scripts write beside themselves when a referee runs them.
R_RESULTS = "crosscheck_r.csv"
STATA_RESULTS = "crosscheck_stata.csv"
COMPARISON = "crosscheck_comparison"
SUMMARY = "crosscheck_summary"
