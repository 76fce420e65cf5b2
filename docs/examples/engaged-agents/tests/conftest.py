# csframe's test kit: the fixtures csframe_case and csframe_engine. Naming it here loads it
# whether or not pytest has loaded it already through csframe's pytest11 entry point (of the
# same name, so it is registered once).
pytest_plugins = ["csframe.testing"]
