with records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

keys as (
    select record_id, 'rrn' as match_rule, rrn_hash as key_value
    from records
    where rrn_hash is not null

    union all

    select record_id, 'mobile_name' as match_rule, mobile_e164 || '|' || name_key as key_value
    from records
    where mobile_e164 is not null and name_key is not null

    union all

    select record_id, 'email' as match_rule, email_key as key_value
    from records
    where email_key is not null

    union all

    select
        record_id,
        'name_birth' as match_rule,
        name_key || '|' || cast(birth_date as {{ dbt.type_string() }}) || '|' || postal_code
            as key_value
    from records
    where name_key is not null and birth_date is not null and postal_code is not null

    union all

    select record_id, 'name_address' as match_rule, name_key || '|' || address_key as key_value
    from records
    where name_key is not null and address_key is not null
)

select
    record_id,
    match_rule,
    key_value,
    match_rule || ':' || key_value as match_key
from keys
