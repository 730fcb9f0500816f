-- Calls and form submissions per company, local day and marketing source.
with calls as (
    select
        company_id,
        started_local_date as local_date,
        coalesce(source, '(none)') as source,
        count(*) as calls,
        count(*) filter (where answered) as answered_calls,
        count(*) filter (where first_call) as first_time_callers,
        count(*) filter (where lead_status = 'good_lead') as good_leads,
        coalesce(sum(value), 0) as value
    from {{ ref('fct_calls') }}
    group by 1, 2, 3
),

forms as (
    select
        company_id,
        submitted_local_date as local_date,
        coalesce(source, '(none)') as source,
        count(*) as form_submissions,
        count(*) filter (where lead_status = 'good_lead') as good_leads,
        coalesce(sum(value), 0) as value
    from {{ ref('fct_form_submissions') }}
    group by 1, 2, 3
)

select
    coalesce(calls.company_id, forms.company_id) as company_id,
    coalesce(calls.local_date, forms.local_date) as local_date,
    coalesce(calls.source, forms.source) as source,
    coalesce(calls.calls, 0) as calls,
    coalesce(calls.answered_calls, 0) as answered_calls,
    coalesce(calls.first_time_callers, 0) as first_time_callers,
    coalesce(calls.good_leads, 0) + coalesce(forms.good_leads, 0) as good_leads,
    coalesce(forms.form_submissions, 0) as form_submissions,
    coalesce(calls.value, 0) + coalesce(forms.value, 0) as value
from calls
full outer join forms
    on forms.company_id = calls.company_id
    and forms.local_date = calls.local_date
    and forms.source = calls.source
