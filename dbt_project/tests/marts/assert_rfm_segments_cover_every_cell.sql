-- The seed rfm_segments maps each of the 25 R×F cells to a segment, and every segment wins at
-- least one cell (a segment no score can reach would never appear).
with scores as (
    select 1 as score
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
),

cells as (
    select r.score as r_score, f.score as f_score
    from scores as r
    cross join scores as f
),

winners as (
    select
        cells.r_score,
        cells.f_score,
        segments.segment_code,
        row_number() over (partition by cells.r_score, cells.f_score order by segments.priority)
            as segment_rank
    from cells
    left join {{ ref('rfm_segments') }} as segments
        on cells.r_score between segments.r_score_min and segments.r_score_max
            and cells.f_score between segments.f_score_min and segments.f_score_max
)

select
    'cell ' || cast(r_score as {{ dbt.type_string() }}) || cast(f_score as {{ dbt.type_string() }})
    || ' has no segment' as problem
from winners
where segment_rank = 1 and segment_code is null

union all

select 'segment ' || segments.segment_code || ' wins no cell' as problem
from {{ ref('rfm_segments') }} as segments
where segments.segment_code not in (
        select segment_code from winners
        where segment_rank = 1 and segment_code is not null
    )
