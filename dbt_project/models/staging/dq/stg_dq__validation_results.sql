with source as (
    select * from {{ source('dq', 'validation_results') }}
)

select
    run_id,
    validated_at,
    cast(validated_at as date) as validated_on,
    suite,
    expectation,
    expectation_type,
    table_name,
    column_name,
    severity,
    mostly,
    element_count,
    unexpected_count,
    unexpected_share,
    observed_value,
    success,
    outcome,
    engine
from source
