with overrides as (
    select * from {{ ref('identity_overrides') }}
),

pairs as (
    select
        case when trim(record_a) < trim(record_b) then trim(record_a) else trim(record_b) end
            as record_id_a,
        case when trim(record_a) < trim(record_b) then trim(record_b) else trim(record_a) end
            as record_id_b,
        lower(trim(decision)) as decision,
        decided_by,
        decided_on,
        reason
    from overrides
    where trim(record_a) <> trim(record_b)
),

pairs_latest_first as (
    select
        pairs.*,
        row_number() over (
            partition by record_id_a, record_id_b
            order by decided_on desc, case when decision = 'different' then 0 else 1 end
        ) as recency
    from pairs
)

select
    record_id_a,
    record_id_b,
    decision,
    decided_by,
    decided_on,
    reason
from pairs_latest_first
where recency = 1
