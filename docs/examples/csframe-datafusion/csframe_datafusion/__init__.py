"""csframe-datafusion: an example third-party csframe adapter (Apache DataFusion over Parquet)."""
