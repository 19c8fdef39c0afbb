{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns'
) }}
with source as (
    select * from {{ source('callcenter', 'callcenter_tickets') }}
    {{ keys_loaded_since_last_build(source('callcenter', 'callcenter_tickets'), 'trim(ticket_id)') }}
),

latest as (
    {{ deduplicate('source', ['trim(ticket_id)']) }}
)

select
    trim(ticket_id) as ticket_id,
    {{ clean_text('call_id') }} as call_id,
    {{ clean_text('caller_number') }} as caller_number_raw,
    {{ call_category('category') }} as ticket_category,
    lower(trim(status)) as ticket_status,
    {{ parse_timestamp('received_at') }} as received_at,
    {{ parse_timestamp('assigned_at') }} as assigned_at,
    {{ parse_timestamp('resolved_at') }} as resolved_at,
    {{ clean_text('agent_id') }} as agent_id,
    _batch_id,
    _loaded_at,
    '{{ staging_rules_fingerprint() }}' as _staging_rules
from latest
