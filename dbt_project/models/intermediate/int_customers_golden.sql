{%- set attributes = ['name', 'mobile', 'home_phone', 'work_phone', 'fax', 'email',
                      'postal_code', 'address', 'address_detail', 'birth_date', 'grade'] -%}
with crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

shop_members as (
    select * from {{ ref('stg_shop__members') }}
),

survivors as (
    select * from {{ ref('int_customer_attribute_survivors') }}
),

member_consents as (
    select * from {{ ref('int_customer_consents') }}
),

suppressed_emails as (
    select * from {{ ref('int_email_suppressions') }}
),

customers as (
    select distinct customer_id from crosswalk
    where customer_id is not null
),

member_since as (
    select crosswalk.customer_id, min(registered.registered_on) as member_since
    from (
        select 'erp_customer' as source, erp_customer_no as source_key, registered_on
        from erp_customers
        union all
        select
            'shop_member' as source,
            cast(shop_member_id as {{ dbt.type_string() }}) as source_key,
            cast(joined_at as date) as registered_on
        from shop_members
    ) as registered
    inner join crosswalk
        on crosswalk.source = registered.source and crosswalk.source_key = registered.source_key
    group by crosswalk.customer_id
),

-- Customer-master records (ERP customers, shop members) the customer is made of: changes when
-- identity resolution merges or splits it, which opens a version in snap_customers.
record_counts as (
    select customer_id, count(*) as customer_records
    from crosswalk
    where source in ('erp_customer', 'shop_member')
    group by customer_id
),

pivoted as (
    select
        customers.customer_id,
        {%- for attribute in attributes %}
        max(case when survivors.attribute = '{{ attribute }}' and survivors.attribute_status <> 'missing'
                then survivors.attribute_value
        end) as {{ attribute }},
        max(case when survivors.attribute = '{{ attribute }}' then survivors.attribute_status end)
            as {{ attribute }}_status,
        max(case when survivors.attribute = '{{ attribute }}' and survivors.attribute_status <> 'missing'
                then survivors.source || ':' || survivors.source_key
        end) as {{ attribute }}_source,
        max(case when survivors.attribute = '{{ attribute }}' then survivors.present_in_any_source end)
            as {{ attribute }}_present_any,
        {%- endfor %}
        count(distinct survivors.source || ':' || survivors.source_key) as contributing_records
    from customers
    left join survivors on survivors.customer_id = customers.customer_id
    group by customers.customer_id
)

select
    pivoted.customer_id,
    {%- for attribute in attributes %}
    pivoted.{{ attribute }},
    coalesce(pivoted.{{ attribute }}_status, 'missing') as {{ attribute }}_status,
    pivoted.{{ attribute }}_source,
    {%- endfor %}
    {%- for channel in ['address', 'home_phone', 'work_phone', 'fax', 'mobile', 'email'] %}
    coalesce(pivoted.{{ channel }}_present_any, 0) = 1 as has_{{ channel }},
    coalesce(pivoted.{{ channel }}_status, 'missing') = 'valid' as has_valid_{{ channel }},
    {%- endfor %}
    coalesce(email_consent.consent, 'unknown') as email_consent,
    coalesce(sms_consent.consent, 'unknown') as sms_consent,
    suppressed_emails.suppressed_reason as email_suppressed_reason,
    suppressed_emails.suppressed_at as email_suppressed_at,
    member_since.member_since,
    'valid_first > most_recent > source_priority' as survivorship_rule,
    pivoted.contributing_records,
    coalesce(record_counts.customer_records, 0) as customer_records
from pivoted
left join member_since on member_since.customer_id = pivoted.customer_id
left join record_counts on record_counts.customer_id = pivoted.customer_id
-- One equality (a hash join), as in int_customer_attribute_values.
left join suppressed_emails
    on suppressed_emails.email
        = case when pivoted.email_status = 'suppressed' then pivoted.email end
left join member_consents as email_consent
    on email_consent.customer_id = pivoted.customer_id and email_consent.consent_channel = 'email'
left join member_consents as sms_consent
    on sms_consent.customer_id = pivoted.customer_id and sms_consent.consent_channel = 'sms'
