-- One row per call and tag name. CallRail puts tag names on calls; a name identifies a tag when
-- exactly one tag of that name belongs to the call's company or to its account as a whole.
with call_tags as (
    select distinct
        call_id,
        account_id,
        company_id,
        unnest(tags) as tag_name
    from {{ ref('fct_calls') }}
),

candidates as (
    select
        call_tags.call_id,
        call_tags.tag_name,
        min(tags.tag_id) as tag_id,
        count(tags.tag_id) as matches
    from call_tags
    join {{ ref('stg_callrail__tags') }} as tags
        on tags.account_id = call_tags.account_id
        and tags.tag_name = call_tags.tag_name
        and (tags.company_id = call_tags.company_id or tags.company_id is null)
    group by call_tags.call_id, call_tags.tag_name
)

select
    call_tags.call_id,
    call_tags.tag_name,
    case when candidates.matches = 1 then candidates.tag_id end as tag_id,
    call_tags.account_id,
    call_tags.company_id
from call_tags
left join candidates
    on candidates.call_id = call_tags.call_id
    and candidates.tag_name = call_tags.tag_name
