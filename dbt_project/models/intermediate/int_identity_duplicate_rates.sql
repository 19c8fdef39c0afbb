with resolved as (
    select * from {{ ref('int_customers_resolved') }}
),

per_source as (
    select
        source,
        count(*) as record_count,
        count(distinct customer_id) as customer_count
    from resolved
    group by source
),

overall as (
    select
        'all_customer_masters' as source,
        count(*) as record_count,
        count(distinct customer_id) as customer_count
    from resolved
),

unioned as (
    select * from per_source
    union all
    select * from overall
)

select
    source,
    record_count,
    customer_count,
    record_count - customer_count as duplicate_record_count,
    case when record_count > 0
            then round(cast(record_count - customer_count as numeric) / record_count, 4)
    end as duplicate_rate
from unioned
