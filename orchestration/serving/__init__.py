"""Publishing marts to BI tools and operations (see orchestration.serving.publish)."""
