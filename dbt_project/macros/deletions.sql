{#- Delete markers: a shop record the source no longer holds, found by the loader's periodic full
    compare (ingest/shop_loader.py), has a row in raw._deletions. Staging hides a record while a
    marker newer than its latest loaded version exists and has not been lifted (the record came
    back). `key_columns` are the source's key columns; the key text is built exactly as the
    loader builds it. -#}

{% macro record_key(key_columns) -%}
    concat_ws('|'{% for column in key_columns %}, trim({{ column }}){% endfor %})
{%- endmacro %}

{% macro not_deleted(source_name, entity, key_columns, loaded_at='_loaded_at') -%}
    not exists (
        select 1
        from {{ source('load_log', '_deletions') }} as deletions
        where deletions.source = '{{ source_name }}'
            and deletions.entity = '{{ entity }}'
            and deletions.restored_at is null
            and deletions.record_key = {{ record_key(key_columns) }}
            and deletions.deleted_at >= {{ loaded_at }}
    )
{%- endmacro %}
