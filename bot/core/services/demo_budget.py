"""The demo's budget: the seed report's projects and plan, in the import format.

Projects, their funding and the joint action plan's totals are the report's figures
(shared/DOMAIN.md). The report gives no revenue and spending lines; the ones below
are synthetic (a plausible 12 million som year) so that the per-household summary
has something to show. The 2012 priority problems are seeded as approved problems.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.core.services.budget_import import import_budget
from storage.models import Municipality
from storage.repos import Repos

PRIORITIES_2012 = (
    "Internal roads and bridges",
    "Street lighting and transformers",
    "Pre-school education (kindergartens)",
    "Youth: sports hall and club",
    "Transparency of the local government",
    "Local economy",
)

BUDGET_CSV = """\
kind,year,code,name,village,amount,source_type,status,problem,direct,indirect,activities,community,investment,note,plan
revenue,2015,,Local taxes,,2100000,,,,,,,,,,
revenue,2015,,Land tax,,1400000,,,,,,,,,,
revenue,2015,,Mining company payments,,3800000,,,,,,,,,,
revenue,2015,,Equalisation grant (republican budget),,4200000,,,,,,,,,,
revenue,2015,,Other income,,500000,,,,,,,,,,
spending,2015,,Administration,,3100000,,,,,,,,,,
spending,2015,,Schools and kindergartens,,2400000,,,,,,,,,,
spending,2015,,Social support,,1200000,,,,,,,,,,
spending,2015,,Reserve fund,,600000,,,,,,,,,,
spending,2015,,Club and culture,Ak-Chiy,600000,,,,,,,,,,
spending,2015,,Boiler house,Ak-Chiy,1100000,,,,,,,,,,
spending,2015,,Street lighting,Ak-Chiy,300000,,,,,,,,,,
spending,2015,,Street lighting,Sovetskoye,400000,,,,,,,,,,
spending,2015,,Roads,Ak-Chiy,600000,,,,,,,,,,
spending,2015,,Roads,Kachybek,900000,,,,,,,,,,
spending,2015,,Drinking water,Sovetskoye,800000,,,,,,,,,,
project,2015,ROADS,Roads: 4.0 km of gravel and 7 bridges,,457000,,done,1,1500,700,,,,4.0 km of gravel; 7 bridges; 115 residents worked,yes
funding,2015,ROADS,Local budget,,107000,local_budget,,,,,,,,,
funding,2015,ROADS,ARIS,,250000,investor,,,,,,,,,
funding,2015,ROADS,Pasture committee,,40000,investor,,,,,,,,,
funding,2015,ROADS,Residents,,35000,community_money,,,,,,,,,
funding,2015,ROADS,Residents' labour (115 people),,25000,community_labour,,,,,,,,,
project,2015,TRANSFORMERS,Transformers in Ak-Chiy and Sovetskoye,,467500,,done,2,1320,,,,,Ak-Chiy and Sovetskoye,yes
funding,2015,TRANSFORMERS,Local budget,,2500,local_budget,,,,,,,,,
funding,2015,TRANSFORMERS,Residents,,15000,community_money,,,,,,,,,
funding,2015,TRANSFORMERS,Republican budget,,450000,republican_budget,,,,,,,,,
project,2015,SCHOOLHALL,School hall,Ak-Chiy,1739000,,done,4,,,,,,,yes
funding,2015,SCHOOLHALL,Incentive grant,,1350000,grant,,,,,,,,,
funding,2015,SCHOOLHALL,Issyk-Kul development fund,,389000,grant,,,,,,,,,
project,2015,KINDERGARTEN,Kindergarten furniture,Kachybek,400000,,done,3,25,,,,,one group of 25 children opened,yes
funding,2015,KINDERGARTEN,Grant,,400000,grant,,,,,,,,,
project,2015,EXCAVATOR,Excavator,,2500000,,done,1,,,,,,,
funding,2015,EXCAVATOR,Investment,,2500000,investor,,,,,,,,,
plan,2015,,Joint action plan 2012-2014,,5684800,,,,,,49,357800,3151000,,
"""


async def ensure_demo_budget(repos: Repos, municipality: Municipality, *, now: datetime) -> bool:
    """Seed the 2012 priorities and the budget once; True when created now."""
    if await repos.budget.current(municipality.id) is not None:
        return False
    async with repos.db.transaction():
        for body in PRIORITIES_2012:
            problem_id = await repos.problems.create(
                municipality_id=municipality.id, village_id=None, body=body, now=iso(now)
            )
            await repos.problems.decide(
                problem_id, "approved", reason=None, merged_into=None, now=iso(now)
            )
        await import_budget(repos, municipality, BUDGET_CSV.encode(), now=now)
    return True
