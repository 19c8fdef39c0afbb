{{ config(
    materialized='incremental',
    unique_key='call_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
with calls as (
    select * from {{ ref('stg_callcenter__calls') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
    where source = 'callcenter_call'
),

resolved_calls as (
    select
        calls.call_id,
        crosswalk.customer_id,
        crosswalk.match_rule as customer_match_rule,
        calls.started_at,
        cast(calls.started_at as date) as call_date,
        calls.direction,
        calls.call_category,
        calls.call_category_ko,
        calls.call_category = 'complaint' as is_complaint,
        calls.duration_seconds,
        calls.agent_id,
        calls.satisfaction_score,
        calls._loaded_at
    from calls
    left join crosswalk on crosswalk.source_key = calls.call_id
)

select
    call_id,
    customer_id,
    customer_match_rule,
    started_at,
    call_date,
    direction,
    call_category,
    call_category_ko,
    is_complaint,
    duration_seconds,
    agent_id,
    satisfaction_score,
    _loaded_at
from resolved_calls
{% if is_incremental() %}
{{ new_batches_or_reresolved('call_id', 'resolved_calls') }}
{% endif %}
