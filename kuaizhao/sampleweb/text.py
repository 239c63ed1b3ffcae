"""Generated news text: sentence templates filled from a small vocabulary.

Everything here is original sample text. All characters are in GB2312 so the
same story can be served by outlets in any of the encodings the sample web uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = ("国内", "国际", "财经", "科技", "体育", "社会", "文化")

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉宁鹏飞晨阳雪琳欣悦然"
    "浩宇轩思博凯睿佳慧嘉瑞婷雯晓东海波亮春梅志国庆永新卫斌立成俊峰松云晶倩颖琪璐"
)

PROVINCES: dict[str, tuple[str, ...]] = {
    "山西": ("太原", "晋中", "忻州", "阳泉", "吕梁", "大同"),
    "浙江": ("杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴"),
    "江苏": ("南京", "苏州", "无锡", "常州", "南通"),
    "安徽": ("合肥", "芜湖", "池州", "安庆"),
    "广东": ("广州", "深圳", "珠海", "佛山", "东莞"),
    "四川": ("成都", "绵阳", "德阳", "宜宾"),
    "河北": ("石家庄", "唐山", "保定", "廊坊"),
    "湖北": ("武汉", "宜昌", "襄阳", "鄂州"),
    "陕西": ("西安", "宝鸡", "咸阳", "延安"),
    "贵州": ("贵阳", "遵义", "凯里", "安顺"),
    "山东": ("济南", "青岛", "烟台", "德州"),
    "吉林": ("长春", "吉林", "延吉"),
}
FOREIGN = (
    "雅加达", "曼谷", "万象", "杜伊斯堡", "阿拉木图", "塔什干", "布达佩斯",
    "内罗毕", "里约热内卢", "新加坡", "吉隆坡", "比什凯克",
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    category: int
    phrase: str
    provinces: tuple[str, ...]
    goal: str


def _topics() -> tuple[Topic, ...]:
    rows = [
        (0, "山西中部城市群", "山西", "高质量发展"),
        (0, "长三角一体化", "浙江 江苏 安徽", "高质量发展"),
        (0, "京津冀协同发展", "河北", "向纵深推进"),
        (0, "粤港澳大湾区", "广东", "融合发展"),
        (0, "成渝地区双城经济圈", "四川", "建设提速"),
        (0, "黄河流域生态保护", "陕西 山西 山东", "系统治理"),
        (1, "中欧班列", "湖北 四川 陕西", "开行提质"),
        (1, "共建“一带一路”", "陕西 广东", "务实合作"),
        (1, "澜湄合作", "贵州 广东", "合作深化"),
        (1, "中国东盟自贸区", "广东", "升级建设"),
        (1, "上海合作组织", "陕西 山东", "区域合作"),
        (2, "新能源汽车", "安徽 广东 浙江", "产业集群发展"),
        (2, "跨境电商", "浙江 广东", "扩量提质"),
        (2, "专精特新", "江苏 山东", "企业培育"),
        (2, "消费品以旧换新", "湖北 江苏", "提振消费"),
        (2, "地方政府专项债", "河北 四川", "发行使用"),
        (3, "人工智能大模型", "浙江 广东", "创新应用"),
        (3, "量子计算", "安徽", "技术攻关"),
        (3, "商业航天", "陕西 山东", "产业布局"),
        (3, "低空经济", "广东 四川", "场景拓展"),
        (3, "北斗导航", "湖北 河北", "规模应用"),
        (4, "全民健身", "山东 吉林", "全面推进"),
        (4, "村超", "贵州", "火热开赛"),
        (4, "城市马拉松", "江苏 浙江", "赛事升级"),
        (4, "青少年足球", "湖北 山东", "普及提高"),
        (4, "冰雪运动", "吉林 河北", "蓬勃开展"),
        (5, "老旧小区改造", "山西 湖北", "扎实推进"),
        (5, "养老服务", "江苏 四川", "提质增效"),
        (5, "义务教育", "河北 贵州", "优质均衡"),
        (5, "城市更新", "广东 山东", "有序实施"),
        (5, "基层治理", "山东 吉林", "效能提升"),
        (6, "非物质文化遗产", "贵州 浙江", "保护传承"),
        (6, "文旅融合", "陕西 山西", "深度发展"),
        (6, "博物馆", "陕西 湖北", "开放提升"),
        (6, "古籍保护", "浙江 山东", "整理出版"),
        (6, "大运河文化带", "江苏 浙江", "建设推进"),
    ]
    return tuple(Topic(c, p, tuple(v.split()), g) for c, p, v, g in rows)


TOPICS = _topics()
TOPICS_BY_CATEGORY: tuple[tuple[Topic, ...], ...] = tuple(
    tuple(t for t in TOPICS if t.category == i) for i in range(len(CATEGORIES))
)

ROLES = (
    "省委常委、{city}市委书记", "{city}市长", "{city}市发展改革委主任", "{prov}省商务厅副厅长",
    "{city}市文化和旅游局局长", "{city}市体育局副局长", "{prov}省科技厅有关负责人",
    "{city}市民政局局长", "{prov}省社科院研究员", "{city}市住房城乡建设局副局长",
)  # fmt: skip
ORGS = (
    "市发展改革委", "市工业和信息化局", "市商务局", "市统计局", "市科技局", "市文化和旅游局",
    "市教育局", "市民政局", "市体育局", "市住房城乡建设局", "市生态环境局", "市财政局",
)  # fmt: skip
MEETINGS = ("推进大会", "工作会议", "新闻发布会", "专题座谈会", "高峰论坛", "现场推进会")
DOCS = ("实施方案", "三年行动计划", "若干措施", "发展规划", "专项行动方案")
ACTS = (
    "扛起责任担当", "打出政策组合拳", "按下快进键", "跑出加速度", "绘就新图景",
    "激活新动能", "交出亮眼答卷", "迈出新步伐",
)  # fmt: skip
ABSTRACTS = (
    "要素集聚力、综合承载力和核心竞争力", "辐射带动能力和综合服务水平",
    "群众获得感、幸福感、安全感", "发展质量和整体效益", "创新能力和产业竞争力",
)  # fmt: skip
CAPTIONS = (
    "{role}{person}在会上致辞。", "{city}{k}项目建设现场。", "市民在{city}参观{k}主题展览。",
    "{city}{k}相关活动现场。", "工作人员在{city}一处项目现场进行检查。",
)  # fmt: skip


def person(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


@dataclass(frozen=True)
class Block:
    """One block of an article body: a text paragraph or an image with its caption."""

    text: str
    image: bool = False


@dataclass(frozen=True)
class Story:
    """The outlet-independent content of a story, shared by every syndicated copy."""

    title: str
    blocks: tuple[Block, ...]
    reporters: tuple[str, ...]
    correspondent: str
    city: str
    province: str
    topic: str


class _Filler:
    def __init__(
        self, rng: random.Random, topic: Topic, month: int, day: int, prov: str = "", city: str = ""
    ) -> None:
        self.rng = rng
        self.topic = topic
        self.prov = prov or rng.choice(topic.provinces)
        cities = PROVINCES[self.prov]
        self.city = city or rng.choice(cities)
        others = [c for c in cities if c != self.city]
        rng.shuffle(others)
        self.others = others
        self.foreign = rng.choice(FOREIGN)
        self.date = f"{month}月{day}日"

    def fill(self, template: str) -> str:
        r = self.rng
        values = {
            "city": self.city, "prov": self.prov, "k": self.topic.phrase, "g": self.topic.goal,
            "date": self.date, "c1": self.others[0], "c2": self.others[-1],
            "foreign": self.foreign, "meeting": r.choice(MEETINGS), "doc": r.choice(DOCS),
            "act": r.choice(ACTS), "abs": r.choice(ABSTRACTS), "org": r.choice(ORGS),
            "num": str(r.randint(12, 980)), "num2": str(r.randint(20, 3000)),
            "pct": f"{r.randint(3, 38)}.{r.randint(0, 9)}",
            "n": "一二三四五六七八九"[r.randint(2, 8)], "year": str(r.choice((2025, 2026, 2027))),
            "person": person(r), "count": str(r.randint(3, 60)),
        }  # fmt: skip
        values["role"] = r.choice(ROLES).format(**values)
        return template.format(**values)


TITLES = (
    "{act} {city}引领{k}{g}", "{prov}：{k}{g}取得实质性进展", "{city}召开{k}{meeting}",
    "聚焦{k} {city}{act}", "{city}出台{k}{doc}", "{k}迎来新进展 {city}{num}个项目集中开工",
    "{city}{k}相关投资同比增长{pct}%", "{date}，{city}这场{meeting}关注{k}",
    "从{c1}到{c2}：{k}{act}", "{k}{g}的{city}实践",
)  # fmt: skip
LEADS = (
    "{date}，{k}{meeting}在{city}举行。会议明确，{city}将{act}，协同{c1}、{c2}等地共同推进{k}{g}。",
    "{date}，记者从{city}{org}获悉，{city}近日出台《关于推进{k}{g}的{doc}》，提出到{year}年取得实质性进展。",
    "{date}，{city}{k}重点项目集中开工，共涉及项目{count}个，总投资{num2}亿元。",
    "{date}，以“{k}”为主题的{meeting}在{city}开幕，来自{foreign}等地的{num}位代表参会。",
)  # fmt: skip
SENTENCES = (
    "据介绍，{city}{k}相关项目已累计完成投资{num}亿元，同比增长{pct}%。",
    "近年来，{city}紧抓{k}重大机遇，提出“{n}个一体化”发展思路，签署多项合作协议。",
    "下一步，{city}将在拓展合作上多点发力，不断提升{abs}。",
    "{org}有关负责人表示，将进一步完善工作机制，推动{k}{g}走深走实。",
    "今年以来，{city}已举办各类{k}活动{count}场，吸引群众{num}万人次参与。",
    "数据显示，前三季度{prov}{k}领域新增市场主体{num}家，增速高于全省平均水平。",
    "“我们要把{k}作为一项长期任务，久久为功、持续用力。”{role}{person}说。",
    "“{k}给我们带来了实实在在的变化。”{city}市民{person}告诉记者。",
    "业内人士认为，{k}正在从试点探索走向全面推开，{city}的经验具有一定示范意义。",
    "在{c1}，一批{k}项目正加紧建设；在{c2}，相关配套设施已陆续投入使用。",
    "记者了解到，{city}还将与{foreign}等地开展交流合作，进一步拓宽{k}的发展空间。",
    "围绕{k}，{city}建立了市际联席会议制度，推动规划衔接、设施互通、服务共享。",
    "截至目前，{city}{k}相关工作已覆盖{count}个县（市、区），惠及群众{num}万人。",
    "专家指出，推进{k}{g}，关键在于打破地域分割和机制壁垒，形成分工合理的发展格局。",
    "{prov}将继续加大政策支持力度，为{k}{g}提供有力保障。",
    "活动现场，{person}等{count}位代表作了交流发言，分享了各自在{k}方面的做法。",
)  # fmt: skip


@dataclass(frozen=True)
class Head:
    """The cheap part of a story (what list pages and feeds need)."""

    title: str
    topic: Topic
    province: str
    city: str


def _rng(seed: int, story: int, salt: int) -> random.Random:
    return random.Random(seed * 1_000_003 + story * 7919 + salt)


def make_head(seed: int, story: int, category: int) -> Head:
    rng = _rng(seed, story, 17)
    topics = TOPICS_BY_CATEGORY[category]
    topic = topics[story % len(topics)] if story % 3 == 0 else rng.choice(topics)
    filler = _Filler(rng, topic, 1, 1)
    return Head(filler.fill(rng.choice(TITLES)), topic, filler.prov, filler.city)


def make_story(seed: int, story: int, category: int, month: int, day: int) -> Story:
    """Generate the title and body of one story, deterministic from (seed, story)."""
    head = make_head(seed, story, category)
    rng = _rng(seed, story, 29)
    filler = _Filler(rng, head.topic, month, day, head.province, head.city)
    reporters = tuple(person(rng) for _ in range(rng.choice((1, 1, 1, 2))))
    blocks: list[Block] = [Block(filler.fill(rng.choice(LEADS)))]
    paragraphs = rng.randint(4, 13)
    images = rng.choice((0, 0, 1, 1, 2, 3))
    image_at = {rng.randint(1, paragraphs) for _ in range(images)}
    deck: list[str] = []
    for i in range(1, paragraphs + 1):
        if i in image_at:
            blocks.append(Block(filler.fill(rng.choice(CAPTIONS)), image=True))
        chosen = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            if not deck:
                deck = list(SENTENCES)
                rng.shuffle(deck)
            chosen.append(deck.pop())
        blocks.append(Block("".join(filler.fill(t) for t in chosen)))
    return Story(
        head.title, tuple(blocks), reporters, person(rng), head.city, head.province,
        head.topic.phrase,
    )  # fmt: skip


def check_gb2312() -> list[str]:
    """Characters of the vocabulary that GB2312 cannot encode (should be empty)."""
    pool = SURNAMES + GIVEN + "".join(TITLES + LEADS + SENTENCES + CAPTIONS)
    pool += "".join(ROLES + ORGS + MEETINGS + DOCS + ACTS + ABSTRACTS + FOREIGN + CATEGORIES)
    pool += "".join(t.phrase + t.goal for t in TOPICS)
    pool += "".join(k + "".join(v) for k, v in PROVINCES.items())
    bad = []
    for ch in sorted(set(pool)):
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            bad.append(ch)
    return bad
