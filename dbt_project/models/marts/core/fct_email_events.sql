{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
with events as (
    select * from {{ ref('stg_esp__events') }}
),

crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
    where source = 'esp_recipient'
),

resolved_events as (
    select
        events.event_id,
        events.campaign_id,
        crosswalk.customer_id,
        events.event_type,
        events.occurred_at,
        cast(events.occurred_at as date) as event_date,
        events.clicked_url,
        events.reason,
        events._loaded_at
    from events
    left join crosswalk on crosswalk.source_key = events.recipient_raw
)

select
    event_id,
    campaign_id,
    customer_id,
    event_type,
    occurred_at,
    event_date,
    clicked_url,
    reason,
    _loaded_at
from resolved_events
{% if is_incremental() %}
{{ new_batches_or_reresolved('event_id', 'resolved_events') }}
{% endif %}
