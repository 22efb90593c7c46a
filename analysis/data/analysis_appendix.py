"""The data appendix of the analysis data set: every variable documented, with its
definition (built on :func:`analysis.data.appendix.describe_variables`), and the
missing-data policy."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.data import variables
from analysis.data.appendix import VariableDoc, describe_variables
from analysis.data.study_settings import BuildSettings
from analysis.errors import DataError


def variable_docs(analysis: pd.DataFrame, clean: pd.DataFrame, partners: tuple[str, ...],
                  scales: tuple[str, ...], settings: BuildSettings
                  ) -> dict[str, variables.VariableDoc]:
    """Variable documentation for this layout, including the dummies of this data set."""
    categories = {c: list(analysis[c].cat.categories) for c in ("sector", "region")
                  if c in analysis.columns and isinstance(analysis[c].dtype, pd.CategoricalDtype)}
    return variables.variable_registry(
        partners, scales, survey_year=settings.survey_year,
        items=variables.open_items(clean) or ("open_1",), intensity_weights=settings.intensity,
        categories=categories, wording=settings.wording, size_labels=size_labels(analysis),
        log_plus_one=settings.log_plus_one)


def size_labels(analysis: pd.DataFrame) -> tuple[str, ...]:
    """The size classes of the analysis data (the bands, or the survey's own classes)."""
    if "size_class" in analysis.columns and isinstance(analysis["size_class"].dtype,
                                                       pd.CategoricalDtype):
        return tuple(str(c) for c in analysis["size_class"].cat.categories)
    return variables.SIZE_LABELS


def alpha_text(clean: pd.DataFrame) -> str:
    """Cronbach's alpha of the open-mindedness items, as a sentence for the appendix."""
    items = variables.open_items(clean)
    if len(items) < 2:
        return ""
    try:
        alpha = variables.cronbach_alpha(clean[items])
    except DataError as err:
        return f"Cronbach's alpha not computed: {err}."
    complete = int(clean[items].notna().all(axis=1).sum())
    return (f"Cronbach's alpha of the {len(items)} items = {alpha:.3f} ({complete} firms "
            f"answering all items).")


def analysis_appendix(analysis: pd.DataFrame, clean: pd.DataFrame,
                      docs: Mapping[str, variables.VariableDoc]) -> pd.DataFrame:
    """The analysis data's appendix: :func:`describe_variables` plus a definition column
    (open-mindedness's with Cronbach's alpha); an undocumented variable is a DataError."""
    undocumented = [c for c in analysis.columns if c not in docs]
    if undocumented:
        raise DataError(f"analysis data: undocumented variable(s) {', '.join(undocumented)}")
    identifiers = {"firm_id", "interview_id"}
    table = describe_variables(analysis, {
        name: VariableDoc(label=doc.label, source=doc.source, summarize=name not in identifiers)
        for name, doc in docs.items()})
    table.insert(2, "definition", [docs[c].definition for c in table["variable"]])
    alpha = alpha_text(clean)
    if alpha and "open_mindedness" in analysis.columns:
        row = table["variable"] == "open_mindedness"
        table.loc[row, "definition"] = table.loc[row, "definition"] + ". " + alpha
    return table


def policy_markdown() -> str:
    """The missing-data policy as Markdown, for the data appendix."""
    lines = ["## Missing-data policy", ""]
    lines += [f"- **{construct}.** {rule}" for construct, rule in
              variables.MISSING_DATA_POLICY.items()]
    return "\n".join(lines) + "\n"
