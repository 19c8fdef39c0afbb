with customer_versions as (
    select * from {{ ref('snap_customers') }}
),

id_lookup as (
    select * from {{ ref('customer_id_lookup') }}
)

select
    customer_versions.dbt_scd_id as customer_version_key,
    customer_versions.customer_id,
    id_lookup.current_customer_id,
    coalesce(id_lookup.is_retired, false) as is_retired_id,
    name as customer_name,
    mobile,
    home_phone,
    work_phone,
    fax,
    email,
    postal_code,
    address,
    address_detail,
    cast(birth_date as date) as birth_date,
    grade as customer_grade,
    email_consent,
    sms_consent,
    has_address,
    has_valid_address,
    has_home_phone,
    has_valid_home_phone,
    has_work_phone,
    has_valid_work_phone,
    has_fax,
    has_valid_fax,
    has_mobile,
    has_valid_mobile,
    has_email,
    has_valid_email,
    name_source,
    mobile_source,
    email_source,
    address_source,
    contributing_records,
    customer_records,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_to,
    dbt_valid_to is null as is_current
from customer_versions
left join id_lookup on id_lookup.customer_id = customer_versions.customer_id
