"""Publishing marts to BI tools and operations (see serving.publish)."""
