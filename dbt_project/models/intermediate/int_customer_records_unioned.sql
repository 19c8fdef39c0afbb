with erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

shop_members as (
    select * from {{ ref('stg_shop__members') }}
),

-- What differs between the sources: keys, names, and the contacts only the ERP holds.
unioned as (
    select
        'erp_customer' as source,
        erp_customer_no as source_key,
        customer_name as person_name,
        customer_name_match_key as name_key,
        rrn_hash,
        case when home_phone_status = 'valid' then home_phone_e164 end as home_phone_e164,
        case when work_phone_status = 'valid' then work_phone_e164 end as work_phone_e164,
        mobile_status, mobile_kind, mobile_e164, mobile_suggested_e164, mobile_raw,
        email, email_status, email_invalid_reason, email_suggested,
        birth_date, postal_code, postal_code_status, address, first_loaded_at
    from erp_customers

    union all

    select
        'shop_member' as source,
        cast(shop_member_id as {{ dbt.type_string() }}) as source_key,
        member_name as person_name,
        member_name_match_key as name_key,
        cast(null as {{ dbt.type_string() }}) as rrn_hash,
        cast(null as {{ dbt.type_string() }}) as home_phone_e164,
        cast(null as {{ dbt.type_string() }}) as work_phone_e164,
        mobile_status, mobile_kind, mobile_e164, mobile_suggested_e164, mobile_raw,
        email, email_status, email_invalid_reason, email_suggested,
        birth_date, postal_code, postal_code_status, address, first_loaded_at
    from shop_members
)

select
    source || ':' || source_key as record_id,
    source,
    source_key,
    person_name,
    name_key,
    rrn_hash,
    -- a mobile that lost its leading zero matches by its repaired number
    case when mobile_kind = 'mobile' then coalesce(mobile_e164, mobile_suggested_e164) end
        as mobile_e164,
    {{ phone_national('mobile_raw') }} as mobile_digits,
    home_phone_e164,
    work_phone_e164,
    email,
    case
        when email_status = 'valid' then email
        when email_invalid_reason = 'typo_domain' then email_suggested
    end as email_key,
    birth_date,
    case when postal_code_status = 'valid' then postal_code end as postal_code,
    lower(regexp_replace(address, '\s', '', 'g')) as address_key,
    first_loaded_at,
    -- The anchor order: the record seen first names the customer, so ids never move when
    -- later records join (see int_customers_resolved).
    row_number() over (order by first_loaded_at, source, source_key) as anchor_rank
from unioned
