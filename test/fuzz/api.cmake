# Fuzz targets for src/api.
loom_add_fuzz(api_request DEPS loom_api)
