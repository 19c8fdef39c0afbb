"""Getting source data into the warehouse: source contract, loaders, raw layer."""
