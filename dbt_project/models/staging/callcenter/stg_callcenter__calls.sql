{{ config(
    materialized='incremental',
    unique_key='call_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns'
) }}
with source as (
    select * from {{ source('callcenter', 'callcenter_calls') }}
    {{ keys_loaded_since_last_build(source('callcenter', 'callcenter_calls'), 'trim(call_id)') }}
),

latest as (
    {{ deduplicate('source', ['trim(call_id)']) }}
),

normalised as {{ computed_once() }} (
    select
        *,
        {{ phone_national('caller_number') }} as caller_digits
    from latest
),

judged as {{ computed_once() }} (
    select
        *,
        {{ phone_verdict('caller_number', 'caller_digits') }} as caller_verdict
    from normalised
)

select
    trim(call_id) as call_id,
    {{ parse_timestamp('started_at') }} as started_at,
    lower(trim(direction)) as direction,
    {{ clean_text('caller_number') }} as caller_number_raw,
    {{ phone_columns('caller') }},
    {{ name_columns('customer_name', 'customer_name') }},
    -- 본인확인: the six-digit birth date (YYMMDD) the caller gave, as the agent noted it in the
    -- memo ("본인확인 생년월일 850101"); the rest of the memo stays in raw
    case
        when {{ regex_match('memo', '본인확인 생년월일 ?[0-9]{6}([^0-9]|$)') }}
            then regexp_replace(memo, '^.*본인확인 생년월일 ?([0-9]{6}).*$', '\1')
    end as verified_birth_yymmdd,
    {{ call_category('category') }} as call_category,
    {{ clean_text('category') }} as call_category_ko,
    {{ parse_int('duration_sec') }} as duration_seconds,
    {{ clean_text('agent_id') }} as agent_id,
    {{ parse_int('satisfaction') }} as satisfaction_score,
    _source_file,
    _batch_id,
    _loaded_at,
    '{{ staging_rules_fingerprint() }}' as _staging_rules
from judged
