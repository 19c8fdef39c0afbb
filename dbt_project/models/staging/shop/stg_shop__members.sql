with source as (
    select * from {{ source('shop', 'shop_members') }}
),

latest as (
    {{ deduplicate('source', ['trim(member_id)'], order_by=shop_newest_first(), first_loaded_at=true) }}
),

normalised as {{ computed_once() }} (
    select
        *,
        {{ phone_national('mobile') }} as mobile_digits,
        {{ email_domain_fix('email') }} as email_domain_fix
    from latest
    where {{ not_deleted('shop', 'members', ['member_id']) }}
),

judged as {{ computed_once() }} (
    select
        *,
        {{ phone_verdict('mobile', 'mobile_digits', expected_kind='mobile') }} as mobile_verdict,
        {{ email_verdict('email', 'email_domain_fix') }} as email_verdict,
        {{ postal_code_verdict('zipcode') }} as postal_code_verdict
    from normalised
)

select
    {{ parse_int('member_id') }} as shop_member_id,
    {{ clean_text('login_id') }} as login_id,
    {{ name_columns('name', 'member_name') }},
    {{ clean_text('mobile') }} as mobile_raw,
    {{ phone_columns('mobile') }},
    {{ clean_text('email') }} as email_raw,
    {{ email_columns('email', 'email') }},
    {{ clean_text('zipcode') }} as postal_code_raw,
    {{ postal_code_columns('zipcode', 'postal_code') }},
    {{ clean_text('address1') }} as address,
    {{ clean_text('address2') }} as address_detail,
    case when {{ clean_text('address1') }} is null then 'missing' else 'valid' end as address_status,
    {{ clean_text('grade') }} as member_grade,
    {{ parse_date('birth_date') }} as birth_date,
    {{ parse_timestamp('joined_at') }} as joined_at,
    {{ parse_timestamp('updated_at') }} as updated_at,
    first_loaded_at,
    _batch_id,
    _loaded_at
from judged
