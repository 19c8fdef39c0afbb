{#- Model-level test: the model holds no rows. For models that list problems (exceptions,
    held rows): with severity warn, the count shows as a warning without stopping the run. -#}
{% test is_empty(model) %}
select * from {{ model }}
{% endtest %}
