{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns'
) }}
with source as (
    select * from {{ source('esp', 'esp_events') }}
    {{ keys_loaded_since_last_build(source('esp', 'esp_events'), 'trim(event_id)') }}
),

first_delivery as (
    {{ deduplicate('source', ['trim(event_id)'], order_by='_loaded_at, _source_file, _source_line') }}
),

-- A recipient is an e-mail address, or a mobile number for SMS campaigns (digits and the signs
-- people write numbers with, nothing else).
normalised as {{ computed_once() }} (
    select
        *,
        coalesce({{ regex_match('recipient', '^[0-9+() .-]+$') }}, false) as is_sms_recipient,
        {{ phone_national('recipient') }} as recipient_digits,
        {{ email_domain_fix('recipient') }} as recipient_domain_fix
    from first_delivery
),

judged as {{ computed_once() }} (
    select
        *,
        case
            when is_sms_recipient
                then {{ phone_verdict('recipient', 'recipient_digits', expected_kind='mobile') }}
            else {{ email_verdict('recipient', 'recipient_domain_fix') }}
        end as recipient_verdict
    from normalised
)

select
    trim(event_id) as event_id,
    trim(campaign_id) as campaign_id,
    trim(recipient) as recipient_raw,
    case when trim(recipient) like '%@%' then {{ email_normalised('recipient') }} end as recipient_email,
    case when trim(recipient) not like '%@%' then recipient_digits end as recipient_phone_digits,
    case when is_sms_recipient then 'sms' else 'email' end as recipient_channel,
    {{ contact_status('recipient_verdict') }} as recipient_status,
    {{ contact_reason('recipient_verdict') }} as recipient_invalid_reason,
    lower(trim(event_type)) as event_type,
    {{ parse_timestamp('occurred_at') }} as occurred_at,
    {{ clean_text('url') }} as clicked_url,
    {{ clean_text('reason') }} as reason,
    _source_file,
    _batch_id,
    _loaded_at,
    '{{ staging_rules_fingerprint() }}' as _staging_rules
from judged
