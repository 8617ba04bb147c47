pytest_plugins = ["mes_common.testing.fixtures"]
