def test_x():
    import analysis.context  # noqa: F401
