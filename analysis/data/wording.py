"""How exhibits name a study's country, regional unit and sector code.

Labels of the package and of the configuration files carry placeholders
(``{country}``, ``{region_unit}``, ``{Region_unit}``, ``{sector_classification}``,
``{sector_short}``) that :meth:`Wording.fill` replaces with the words of the study's
``[study]`` section. The Norwegian twin says "city-region", "Norway" and "NACE Rev. 2
division"; another study says what its configuration says (default: "region", "the
country"), so no exhibit of a non-Norwegian study mentions Norway or city-regions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

#: The sector classification assumed when a study names none.
DEFAULT_SECTOR_CLASSIFICATION = "NACE Rev. 2 division"
_PLACEHOLDER = re.compile(r"\{(country|region_unit|Region_unit|sector_classification|"
                          r"sector_short)\}")


@dataclass(frozen=True)
class Wording:
    """The words of one study (``[study]`` country, region_unit, sector_classification)."""

    country: str = ""
    region_unit: str = "region"
    sector_classification: str = DEFAULT_SECTOR_CLASSIFICATION

    def placeholders(self) -> dict[str, str]:
        """The value of every placeholder."""
        unit = self.region_unit
        short = ("NACE division" if self.sector_classification == DEFAULT_SECTOR_CLASSIFICATION
                 else self.sector_classification)
        return {"country": self.country or "the country", "region_unit": unit,
                "Region_unit": unit[:1].upper() + unit[1:],
                "sector_classification": self.sector_classification, "sector_short": short}

    def fill(self, text: str) -> str:
        """``text`` with its placeholders replaced (other braces are left alone)."""
        values = self.placeholders()
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    def scale_label(self, scale: str) -> str:
        """Label of a collaboration scale ("Same city-region", "Elsewhere in Norway", ...)."""
        labels = {"local": "Same {region_unit}", "national": "Elsewhere in {country}",
                  "international": "Abroad", "domestic": "Domestic"}
        return self.fill(labels.get(scale, scale.replace("_", " ").capitalize()))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, object] | None) -> Wording:
        """The wording recorded in the analysis meta ({} or None: the neutral defaults)."""
        values = values or {}
        return cls(**{k: str(values[k]) for k in ("country", "region_unit",
                                                  "sector_classification") if k in values})
