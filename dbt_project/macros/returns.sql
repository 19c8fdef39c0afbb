{#
  A query that walks credits against the units sold before them, one step at a time per
  walk_key, in step order (steps numbered from 1 without gaps). The recursive CTE sits inside
  the query so that the calling model's own `with` stays plain (dbt's unit tests put their
  fixtures in front of it). Each step of `steps` is a sale (is_sale: quantity units become
  available) or a credit (quantity units asked back). A credit is accepted whole when the units
  still available cover it, else refused whole; a refused credit takes nothing, so a later
  credit that fits is still accepted.
  Rows: walk_key, step, line_key, is_sale, units_before, units_after (available before and
  after the step), is_accepted.
#}
{% macro walk_credits(steps) -%}
    with recursive walk as (
    select
        walk_key,
        cast(0 as bigint) as step,
        cast(null as {{ dbt.type_string() }}) as line_key,
        true as is_sale,
        cast(0 as bigint) as units_before,
        cast(0 as bigint) as units_after,
        true as is_accepted
    from {{ steps }}
    group by walk_key

    union all

    select
        next_step.walk_key,
        next_step.step,
        cast(next_step.line_key as {{ dbt.type_string() }}) as line_key,
        next_step.is_sale,
        walked.units_after as units_before,
        cast(case
            when next_step.is_sale then walked.units_after + next_step.quantity
            when next_step.quantity <= walked.units_after
                then walked.units_after - next_step.quantity
            else walked.units_after
        end as bigint) as units_after,
        next_step.is_sale or next_step.quantity <= walked.units_after as is_accepted
    from walk as walked
    inner join {{ steps }} as next_step
        on next_step.walk_key = walked.walk_key
            and next_step.step = walked.step + 1
    )

    select * from walk
{%- endmacro %}
