"""The synthetic twin of the Norwegian firm survey: its questionnaire, true parameters and generator."""
