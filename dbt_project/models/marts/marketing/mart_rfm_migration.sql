with history as (
    select * from {{ ref('mart_rfm_history') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

snapshots as (
    select distinct snapshot_date from history
),

snapshot_pairs as (
    select
        lag(snapshot_date) over (order by snapshot_date) as from_date,
        snapshot_date as to_date
    from snapshots
),

from_side as (
    select
        snapshot_pairs.from_date, snapshot_pairs.to_date, history.customer_id,
        history.segment_code
    from snapshot_pairs
    inner join history on history.snapshot_date = snapshot_pairs.from_date
),

to_side as (
    select
        snapshot_pairs.from_date, snapshot_pairs.to_date, history.customer_id,
        history.segment_code
    from snapshot_pairs
    inner join history on history.snapshot_date = snapshot_pairs.to_date
    where snapshot_pairs.from_date is not null
),

moves as (
    select
        coalesce(from_side.from_date, to_side.from_date) as from_date,
        coalesce(from_side.to_date, to_side.to_date) as to_date,
        coalesce(from_side.segment_code, 'no_purchase') as from_segment_code,
        coalesce(to_side.segment_code, 'no_purchase') as to_segment_code
    from from_side
    full outer join to_side
        on to_side.to_date = from_side.to_date
            and to_side.customer_id = from_side.customer_id
),

counted as (
    select
        from_date,
        to_date,
        from_segment_code,
        to_segment_code,
        count(*) as customers
    from moves
    group by from_date, to_date, from_segment_code, to_segment_code
),

labelled as (
    select
        counted.*,
        sum(counted.customers) over (
            partition by counted.to_date, counted.from_segment_code
        ) as from_segment_customers
    from counted
)

select
    {{ dbt.concat(["cast(labelled.to_date as " ~ dbt.type_string() ~ ")", "':'",
                   "labelled.from_segment_code", "'>'", "labelled.to_segment_code"]) }}
        as migration_key,
    labelled.from_date,
    labelled.to_date,
    labelled.from_segment_code,
    coalesce(from_segments.segment_name, 'No purchase in window') as from_segment_name,
    coalesce(from_segments.segment_name_ko, '기간 내 구매 없음') as from_segment_name_ko,
    labelled.to_segment_code,
    coalesce(to_segments.segment_name, 'No purchase in window') as to_segment_name,
    coalesce(to_segments.segment_name_ko, '기간 내 구매 없음') as to_segment_name_ko,
    labelled.from_segment_code = labelled.to_segment_code as is_same_segment,
    labelled.customers,
    {{ percent('labelled.customers', 'labelled.from_segment_customers') }}
        as pct_of_from_segment
from labelled
left join segments as from_segments on from_segments.segment_code = labelled.from_segment_code
left join segments as to_segments on to_segments.segment_code = labelled.to_segment_code
