{%- set attributes = ['name', 'mobile', 'home_phone', 'work_phone', 'fax', 'email',
                      'postal_code', 'address', 'address_detail', 'birth_date', 'grade'] -%}
with erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

shop_members as (
    select * from {{ ref('stg_shop__members') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

suppressed_emails as (
    select * from {{ ref('int_email_suppressions') }}
),

erp_values as (
    {%- set erp = {
        'name': ('customer_name', "case when customer_name is null then 'missing' else 'valid' end"),
        'mobile': ('mobile_display', 'mobile_status'),
        'home_phone': ('home_phone_display', 'home_phone_status'),
        'work_phone': ('work_phone_display', 'work_phone_status'),
        'fax': ('fax_display', 'fax_status'),
        'email': ('email', 'email_status'),
        'postal_code': ('postal_code', 'postal_code_status'),
        'address': ('address', 'address_status'),
        'address_detail': ('address_detail', "case when address_detail is null then 'missing' else 'valid' end"),
        'birth_date': ('cast(birth_date as ' ~ dbt.type_string() ~ ')', "case when birth_date is null then 'missing' else 'valid' end"),
        'grade': ('customer_grade', "case when customer_grade is null then 'missing' else 'valid' end"),
    } %}
    {%- for attribute in attributes %}
    select
        'erp_customer' as source,
        erp_customer_no as source_key,
        updated_at,
        '{{ attribute }}' as attribute,
        {{ erp[attribute][0] }} as attribute_value,
        {{ erp[attribute][1] }} as attribute_status
    from erp_customers
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

shop_values as (
    {%- set shop = {
        'name': ('member_name', "case when member_name is null then 'missing' else 'valid' end"),
        'mobile': ('mobile_display', 'mobile_status'),
        'email': ('email', 'email_status'),
        'postal_code': ('postal_code', 'postal_code_status'),
        'address': ('address', 'address_status'),
        'address_detail': ('address_detail', "case when address_detail is null then 'missing' else 'valid' end"),
        'birth_date': ('cast(birth_date as ' ~ dbt.type_string() ~ ')', "case when birth_date is null then 'missing' else 'valid' end"),
        'grade': ('member_grade', "case when member_grade is null then 'missing' else 'valid' end"),
    } %}
    {%- for attribute, expressions in shop.items() %}
    select
        'shop_member' as source,
        cast(shop_member_id as {{ dbt.type_string() }}) as source_key,
        updated_at,
        '{{ attribute }}' as attribute,
        {{ expressions[0] }} as attribute_value,
        {{ expressions[1] }} as attribute_status
    from shop_members
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

esp_values as (
    select
        'esp_recipient' as source,
        recipient_raw as source_key,
        max(occurred_at) as updated_at,
        'email' as attribute,
        recipient_email as attribute_value,
        max(recipient_status) as attribute_status
    from esp_events
    where recipient_email is not null
    group by recipient_raw, recipient_email
),

unioned_values as (
    select * from erp_values
    union all
    select * from shop_values
    union all
    select * from esp_values
),

attribute_values as (
    select
        unioned_values.source,
        unioned_values.source_key,
        unioned_values.updated_at,
        unioned_values.attribute,
        unioned_values.attribute_value,
        case when suppressed_emails.email is not null then 'suppressed'
            else unioned_values.attribute_status
        end as attribute_status
    from unioned_values
    -- One equality (the e-mail value or null): a hash join. The attribute test beside it in
    -- the ON clause made both engines fall back to a nested loop.
    left join suppressed_emails
        on suppressed_emails.email
            = case when unioned_values.attribute = 'email' then unioned_values.attribute_value end
)

select
    source,
    source_key,
    updated_at,
    attribute,
    attribute_value,
    attribute_status
from attribute_values
