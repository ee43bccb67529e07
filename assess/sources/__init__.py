"""Sources of cryptographic assets: one package per source (static, runtime, aws), same shape."""
