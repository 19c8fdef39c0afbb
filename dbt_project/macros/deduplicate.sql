{#- One row per key from a raw table that keeps every delivery (a master snapshot a day, a file
    exported twice, every read of the shop database). `order_by` says which version wins: the
    first row in that order. The default is the newest load, then the later file and line;
    sources with a change time of their own put it in front. `first_loaded_at` adds when the key
    was first seen. The rank column `version_rank` stays (always 1): PostgreSQL has no
    `select * exclude`, and staging models select their columns explicitly anyway. -#}
{% macro deduplicate(relation, partition_by, order_by=none, first_loaded_at=false) -%}
{%- set keys = partition_by | join(', ') -%}
select * from (
    select
        *,
        {%- if first_loaded_at %}
        min(_loaded_at) over (partition by {{ keys }}) as first_loaded_at,
        {%- endif %}
        row_number() over (
            partition by {{ keys }}
            order by {{ order_by or '_loaded_at desc, _source_file desc, _source_line desc' }}
        ) as version_rank
    from {{ relation }}
) as versions
where version_rank = 1
{%- endmacro %}

{#- The shop source is read from its database, not from files: the newest read wins, then the
    source's own change time. -#}
{% macro shop_newest_first() -%}
    _loaded_at desc, {{ parse_timestamp('updated_at') }} desc, _source_line desc
{%- endmacro %}
