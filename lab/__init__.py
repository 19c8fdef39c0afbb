"""The lab beside the product: a seeded generator of the four source systems' data with its
truth (lab.generator), and the evaluations that score the warehouse against that truth
(lab.identity_eval, lab.contact_eval). The product (ingest, quality, orchestration) never
imports it; it uses the product's raw contract (ingest.schemas) and settings."""
