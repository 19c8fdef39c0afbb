{#- The customer id of a customer named after one record: 'C' + 12 hex digits of the hash of
    the record's id (`source:key`). Used for resolved customers (their anchor record) and for
    customers only the ESP knows, so both are formed alike. -#}
{% macro customer_id_from(record_id) -%}
    'C' || upper(substr({{ dbt.hash(record_id) }}, 1, 12))
{%- endmacro %}
