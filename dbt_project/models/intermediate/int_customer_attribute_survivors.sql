{#- Survivorship, per customer and attribute: a valid value beats an invalid one (a suppressed
    e-mail comes below invalid), then the most recently updated record wins, then the source
    with the better priority (seed source_priority), then the smaller record key. -#}
with crosswalk as (
    select * from {{ ref('int_identity_crosswalk') }}
),

attribute_values as (
    select * from {{ ref('int_customer_attribute_values') }}
),

source_priority as (
    select * from {{ ref('source_priority') }}
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
                    else 4
                end,
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
)

select
    customer_id,
    attribute,
    attribute_value,
    attribute_status,
    source,
    source_key,
    updated_at,
    present_in_any_source
from ranked
where survivor_rank = 1
