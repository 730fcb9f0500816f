-- One row per form submission: local day (company's zone), attribution, outcome.
with form_submissions as (
    select * from {{ ref('stg_callrail__form_submissions') }}
),

companies as (
    select company_id, company_name, time_zone from {{ ref('stg_callrail__companies') }}
)

select
    form_submissions.form_submission_id,
    form_submissions.account_id,
    form_submissions.company_id,
    coalesce(companies.company_name, form_submissions.company_name) as company_name,
    form_submissions.form_name,
    form_submissions.submitted_at,
    (form_submissions.submitted_at at time zone coalesce(companies.time_zone, 'UTC'))::date
        as submitted_local_date,
    form_submissions.first_form,
    form_submissions.source,
    form_submissions.medium,
    form_submissions.campaign,
    form_submissions.milestones #>> '{first_touch,source}' as first_touch_source,
    form_submissions.milestones #>> '{last_touch,source}' as last_touch_source,
    form_submissions.lead_status,
    form_submissions.value,
    form_submissions.tags
from form_submissions
left join companies on companies.company_id = form_submissions.company_id
