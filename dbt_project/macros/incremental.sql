{#- Filter for an incremental fact: rows from raw batches newer than the newest already in the
    table, plus (with `reresolved_from`) rows whose customer_id changed since they were written —
    identity merges and callers who became customers — so facts follow identity resolution. -#}
{% macro new_batches_or_reresolved(key, reresolved_from=none) -%}
    where _loaded_at > (
        select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }}
    )
    {%- if reresolved_from %}
        or {{ key }} in (
            select existing.{{ key }}
            from {{ this }} as existing
            inner join {{ reresolved_from }}
                on {{ reresolved_from }}.{{ key }} = existing.{{ key }}
            where existing.customer_id is distinct from {{ reresolved_from }}.customer_id
        )
    {%- endif %}
{%- endmacro %}
