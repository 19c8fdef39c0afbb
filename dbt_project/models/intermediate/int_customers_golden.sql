{#- Survivorship, per customer and attribute: a valid value beats an invalid one (an e-mail the
    ESP reported as hard bounce or spam complaint is `suppressed`, below invalid), then the most
    recently updated record wins, then the source with the better priority (seed
    source_priority), then the smaller record key. Each attribute keeps its provenance. -#}
{%- set attributes = ['name', 'mobile', 'home_phone', 'work_phone', 'fax', 'email',
                      'postal_code', 'address', 'address_detail', 'birth_date', 'grade'] -%}

-- One row per customer: the golden record, with where each attribute came from, and contact
-- completeness per channel (present in any source, valid in the golden record).
with crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

erp_customers as (
    select * from {{ ref('stg_erp__customers') }}
),

shop_members as (
    select * from {{ ref('stg_shop__members') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

consents as (
    select * from {{ ref('stg_shop__marketing_consents') }}
),

source_priority as (
    select * from {{ ref('source_priority') }}
),

-- Addresses never to mail again: a spam complaint, or a hard bounce that no later delivery,
-- open or click contradicts (a later delivery proves the mailbox exists).
email_outcomes as (
    select
        recipient_email as email,
        min(case when event_type = 'complaint' then occurred_at end) as first_complaint_at,
        min(case when event_type = 'hard_bounce' then occurred_at end) as first_hard_bounce_at,
        max(case when event_type = 'hard_bounce' then occurred_at end) as last_hard_bounce_at,
        max(case when event_type in ('delivered', 'open', 'click') then occurred_at end)
            as last_reached_at
    from esp_events
    where recipient_email is not null
    group by recipient_email
),

suppressed_emails as (
    select
        email,
        case when first_complaint_at is not null then 'complaint' else 'hard_bounce' end
            as suppressed_reason,
        coalesce(first_complaint_at, first_hard_bounce_at) as suppressed_at
    from email_outcomes
    where first_complaint_at is not null
        or (last_hard_bounce_at is not null
            and (last_reached_at is null or last_reached_at < last_hard_bounce_at))
),

erp_values as (
    {%- set erp = {
        'name': ('customer_name', "case when customer_name is null then 'missing' else 'valid' end"),
        'mobile': ('mobile_display', 'mobile_status'),
        'home_phone': ('home_phone_display', 'home_phone_status'),
        'work_phone': ('work_phone_display', 'work_phone_status'),
        'fax': ('fax_display', 'fax_status'),
        'email': ('email', 'email_status'),
        'postal_code': ('postal_code', "case postal_code_status when 'legacy_6_digit' then 'invalid' else postal_code_status end"),
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
        'postal_code': ('postal_code', "case postal_code_status when 'legacy_6_digit' then 'invalid' else postal_code_status end"),
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
        case when {{ email_reason('recipient_email') }} is null then 'valid' else 'invalid' end
            as attribute_status
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
             else unioned_values.attribute_status end as attribute_status
    from unioned_values
    left join suppressed_emails
        on unioned_values.attribute = 'email'
        and suppressed_emails.email = unioned_values.attribute_value
),

ranked as (
    select
        crosswalk.customer_id,
        attribute_values.*,
        row_number() over (
            partition by crosswalk.customer_id, attribute_values.attribute
            order by
                case attribute_values.attribute_status
                    when 'valid' then 1 when 'invalid' then 2 when 'suppressed' then 3
                    else 4 end,
                attribute_values.updated_at desc,
                source_priority.priority,
                attribute_values.source_key
        ) as survivor_rank,
        max(case when attribute_values.attribute_status <> 'missing' then 1 else 0 end) over (
            partition by crosswalk.customer_id, attribute_values.attribute
        ) as present_in_any_source
    from attribute_values
    inner join crosswalk
        on crosswalk.source = attribute_values.source
        and crosswalk.source_key = attribute_values.source_key
    left join source_priority on source_priority.source = attribute_values.source
),

survivors as (
    select * from ranked where survivor_rank = 1
),

customers as (
    select distinct customer_id from crosswalk where customer_id is not null
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

member_consents as (
    select
        crosswalk.customer_id,
        consents.consent_channel,
        -- One refusal anywhere is a refusal (수취거절 must never be contacted).
        min(case when consents.is_consented then 1 else 0 end) as all_consented
    from consents
    inner join crosswalk
        on crosswalk.source = 'shop_member'
        and crosswalk.source_key = cast(consents.shop_member_id as {{ dbt.type_string() }})
    group by crosswalk.customer_id, consents.consent_channel
),

pivoted as (
    select
        customers.customer_id,
        {%- for attribute in attributes %}
        max(case when survivors.attribute = '{{ attribute }}' and survivors.attribute_status <> 'missing'
            then survivors.attribute_value end) as {{ attribute }},
        max(case when survivors.attribute = '{{ attribute }}' then survivors.attribute_status end)
            as {{ attribute }}_status,
        max(case when survivors.attribute = '{{ attribute }}' and survivors.attribute_status <> 'missing'
            then survivors.source || ':' || survivors.source_key end) as {{ attribute }}_source,
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
    case email_consent.all_consented when 1 then 'consented' when 0 then 'refused' else 'unknown' end
        as email_consent,
    case sms_consent.all_consented when 1 then 'consented' when 0 then 'refused' else 'unknown' end
        as sms_consent,
    suppressed_emails.suppressed_reason as email_suppressed_reason,
    suppressed_emails.suppressed_at as email_suppressed_at,
    member_since.member_since,
    'valid_first > most_recent > source_priority' as survivorship_rule,
    pivoted.contributing_records
from pivoted
left join member_since on member_since.customer_id = pivoted.customer_id
left join suppressed_emails
    on pivoted.email_status = 'suppressed' and suppressed_emails.email = pivoted.email
left join member_consents as email_consent
    on email_consent.customer_id = pivoted.customer_id and email_consent.consent_channel = 'email'
left join member_consents as sms_consent
    on sms_consent.customer_id = pivoted.customer_id and sms_consent.consent_channel = 'sms'
