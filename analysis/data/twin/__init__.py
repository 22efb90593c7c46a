"""The synthetic twin of the Norwegian firm survey: questionnaire, true parameters, generator."""
