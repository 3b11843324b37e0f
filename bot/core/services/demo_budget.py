"""The demo's budget: the seed report's projects and plan, in the import format.

Projects, their funding and the joint action plan's totals are the report's figures
(shared/DOMAIN.md). The report gives no revenue and spending lines; the ones below
are synthetic (a plausible 12 million som year) so that the per-household summary
has something to show. The 2012 priority problems are seeded as approved problems.
Every name is in English (the plain ``name``), Kyrgyz and Russian.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import iso
from bot.core.services.budget_import import import_budget
from storage.models import Municipality, Texts
from storage.repos import Repos

PRIORITIES_2012 = (
    Texts("Internal roads and bridges",
          {"ky": "Ички жолдор жана көпүрөлөр", "ru": "Внутренние дороги и мосты"}),
    Texts("Street lighting and transformers",
          {"ky": "Көчө жарыгы жана трансформаторлор", "ru": "Уличное освещение и трансформаторы"}),
    Texts("Pre-school education (kindergartens)",
          {"ky": "Мектепке чейинки билим (бала бакчалар)",
           "ru": "Дошкольное образование (детские сады)"}),
    Texts("Youth: sports hall and club",
          {"ky": "Жаштар: спорт зал жана клуб", "ru": "Молодёжь: спортзал и клуб"}),
    Texts("Transparency of the local government",
          {"ky": "Жергиликтүү бийликтин ачыктыгы", "ru": "Прозрачность местной власти"}),
    Texts("Local economy", {"ky": "Жергиликтүү экономика", "ru": "Местная экономика"}),
)  # fmt: skip

BUDGET_CSV = """\
kind,year,code,name,village,amount,source_type,status,problem,direct,indirect,activities,community,investment,note,plan,name_ky,name_ru,note_ky,note_ru
revenue,2015,,Local taxes,,2100000,,,,,,,,,,,Жергиликтүү салыктар,Местные налоги,,
revenue,2015,,Land tax,,1400000,,,,,,,,,,,Жер салыгы,Земельный налог,,
revenue,2015,,Mining company payments,,3800000,,,,,,,,,,,Тоо-кен компаниясынын төлөмдөрү,Платежи горнодобывающей компании,,
revenue,2015,,Equalisation grant (republican budget),,4200000,,,,,,,,,,,Теңдөөчү грант (республикалык бюджет),Выравнивающий грант (республиканский бюджет),,
revenue,2015,,Other income,,500000,,,,,,,,,,,Башка кирешелер,Прочие доходы,,
spending,2015,,Administration,,3100000,,,,,,,,,,,Башкаруу,Администрация,,
spending,2015,,Schools and kindergartens,,2400000,,,,,,,,,,,Мектептер жана бала бакчалар,Школы и детские сады,,
spending,2015,,Social support,,1200000,,,,,,,,,,,Социалдык колдоо,Социальная поддержка,,
spending,2015,,Reserve fund,,600000,,,,,,,,,,,Резервдик фонд,Резервный фонд,,
spending,2015,,Club and culture,Ak-Chiy,600000,,,,,,,,,,,Клуб жана маданият,Клуб и культура,,
spending,2015,,Boiler house,Ak-Chiy,1100000,,,,,,,,,,,Казандык,Котельная,,
spending,2015,,Street lighting,Ak-Chiy,300000,,,,,,,,,,,Көчө жарыгы,Уличное освещение,,
spending,2015,,Street lighting,Sovetskoye,400000,,,,,,,,,,,Көчө жарыгы,Уличное освещение,,
spending,2015,,Roads,Ak-Chiy,600000,,,,,,,,,,,Жолдор,Дороги,,
spending,2015,,Roads,Kachybek,900000,,,,,,,,,,,Жолдор,Дороги,,
spending,2015,,Drinking water,Sovetskoye,800000,,,,,,,,,,,Ичүүчү суу,Питьевая вода,,
project,2015,ROADS,Roads: 4.0 km of gravel and 7 bridges,,457000,,done,1,1500,700,,,,4.0 km of gravel; 7 bridges; 115 residents worked,yes,"Жолдор: 4,0 км шагыл жана 7 көпүрө","Дороги: 4,0 км гравия и 7 мостов","4,0 км шагыл; 7 көпүрө; 115 тургун иштеди","4,0 км гравия; 7 мостов; работали 115 жителей"
funding,2015,ROADS,Local budget,,107000,local_budget,,,,,,,,,,Жергиликтүү бюджет,Местный бюджет,,
funding,2015,ROADS,ARIS,,250000,investor,,,,,,,,,,АРИС,АРИС,,
funding,2015,ROADS,Pasture committee,,40000,investor,,,,,,,,,,Жайыт комитети,Пастбищный комитет,,
funding,2015,ROADS,Residents,,35000,community_money,,,,,,,,,,Тургундар,Жители,,
funding,2015,ROADS,Residents' labour (115 people),,25000,community_labour,,,,,,,,,,Тургундардын эмгеги (115 киши),Труд жителей (115 чел.),,
project,2015,TRANSFORMERS,Transformers in Ak-Chiy and Sovetskoye,,467500,,done,2,1320,,,,,Ak-Chiy and Sovetskoye,yes,Ак-Чий жана Советское айылдарындагы трансформаторлор,Трансформаторы в Ак-Чие и Советском,Ак-Чий жана Советское,Ак-Чий и Советское
funding,2015,TRANSFORMERS,Local budget,,2500,local_budget,,,,,,,,,,Жергиликтүү бюджет,Местный бюджет,,
funding,2015,TRANSFORMERS,Residents,,15000,community_money,,,,,,,,,,Тургундар,Жители,,
funding,2015,TRANSFORMERS,Republican budget,,450000,republican_budget,,,,,,,,,,Республикалык бюджет,Республиканский бюджет,,
project,2015,SCHOOLHALL,School hall,Ak-Chiy,1739000,,done,4,,,,,,,yes,Мектептин залы,Школьный зал,,
funding,2015,SCHOOLHALL,Incentive grant,,1350000,grant,,,,,,,,,,Стимулдаштыруучу грант,Стимулирующий грант,,
funding,2015,SCHOOLHALL,Issyk-Kul development fund,,389000,grant,,,,,,,,,,Ысык-Көл өнүктүрүү фонду,Фонд развития Иссык-Куля,,
project,2015,KINDERGARTEN,Kindergarten furniture,Kachybek,400000,,done,3,25,,,,,one group of 25 children opened,yes,Бала бакчанын эмереги,Мебель для детского сада,25 балалуу бир топ ачылды,открыта одна группа на 25 детей
funding,2015,KINDERGARTEN,Grant,,400000,grant,,,,,,,,,,Грант,Грант,,
project,2015,EXCAVATOR,Excavator,,2500000,,done,1,,,,,,,,Экскаватор,Экскаватор,,
funding,2015,EXCAVATOR,Investment,,2500000,investor,,,,,,,,,,Инвестиция,Инвестиции,,
plan,2015,,Joint action plan 2012-2014,,5684800,,,,,,49,357800,3151000,,,Биргелешкен иш-аракет планы 2012–2014,Совместный план действий 2012–2014,,
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
