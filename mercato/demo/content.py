"""The demo shop's assortment: categories, brands, product types and the words products are
named from, in Chinese and English. Fictional brands; no real product or trademark."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Leaf:
    slug: str
    name: str
    name_en: str
    kind: str  # the product type key in TYPES
    nouns: tuple[tuple[str, str], ...]
    price_yuan: tuple[int, int]  # base price range in yuan
    grams: int


@dataclass(frozen=True)
class Top:
    slug: str
    name: str
    name_en: str
    high_risk: bool
    leaves: tuple[Leaf, ...]


CATEGORIES: tuple[Top, ...] = (
    Top(
        "digital",
        "手机数码",
        "Phones & Digital",
        False,
        (
            Leaf(
                "phones",
                "手机",
                "Phones",
                "electronics",
                (("智能手机", "Smartphone"), ("折叠屏手机", "Foldable phone")),
                (999, 6999),
                210,
            ),
            Leaf(
                "headphones",
                "耳机",
                "Headphones",
                "electronics",
                (("降噪耳机", "Noise-cancelling headphones"), ("真无线耳机", "True wireless earbuds")),
                (99, 1299),
                60,
            ),
            Leaf(
                "watches",
                "智能手表",
                "Smartwatches",
                "electronics",
                (("智能手表", "Smartwatch"), ("运动手环", "Fitness band")),
                (199, 2499),
                50,
            ),
        ),
    ),
    Top(
        "appliances",
        "家用电器",
        "Home Appliances",
        False,
        (
            Leaf(
                "kitchen-appliances",
                "厨房电器",
                "Kitchen Appliances",
                "general",
                (("电饭煲", "Rice cooker"), ("空气炸锅", "Air fryer"), ("破壁机", "High-speed blender")),
                (199, 1299),
                4200,
            ),
            Leaf(
                "household-appliances",
                "生活电器",
                "Household Appliances",
                "general",
                (("吸尘器", "Vacuum cleaner"), ("加湿器", "Humidifier"), ("电风扇", "Electric fan")),
                (99, 1999),
                3000,
            ),
        ),
    ),
    Top(
        "apparel",
        "服饰",
        "Apparel",
        False,
        (
            Leaf(
                "men",
                "男装",
                "Men",
                "apparel",
                (("纯棉T恤", "Cotton T-shirt"), ("休闲衬衫", "Casual shirt"), ("羽绒服", "Down jacket")),
                (59, 899),
                350,
            ),
            Leaf(
                "women",
                "女装",
                "Women",
                "apparel",
                (("针织开衫", "Knit cardigan"), ("连衣裙", "Dress"), ("风衣", "Trench coat")),
                (79, 999),
                400,
            ),
            Leaf(
                "sportswear",
                "运动服",
                "Sportswear",
                "apparel",
                (("速干T恤", "Quick-dry T-shirt"), ("运动长裤", "Track pants")),
                (49, 399),
                300,
            ),
        ),
    ),
    Top(
        "food",
        "食品饮料",
        "Food & Drink",
        False,
        (
            Leaf(
                "snacks",
                "休闲零食",
                "Snacks",
                "food",
                (("坚果礼盒", "Mixed nuts"), ("牛肉干", "Beef jerky"), ("海苔脆", "Seaweed crisps")),
                (19, 199),
                500,
            ),
            Leaf(
                "tea",
                "茶叶",
                "Tea",
                "food",
                (("龙井绿茶", "Longjing green tea"), ("普洱熟茶", "Ripe Pu'er tea"), ("白茶", "White tea")),
                (49, 699),
                300,
            ),
            Leaf(
                "coffee",
                "咖啡",
                "Coffee",
                "food",
                (("挂耳咖啡", "Drip coffee bags"), ("咖啡豆", "Coffee beans")),
                (39, 299),
                500,
            ),
        ),
    ),
    Top(
        "beauty",
        "美妆个护",
        "Beauty & Personal Care",
        True,
        (
            Leaf(
                "skincare",
                "护肤",
                "Skincare",
                "general",
                (("保湿面霜", "Moisturising cream"), ("洁面乳", "Facial cleanser")),
                (59, 699),
                200,
            ),
            Leaf(
                "makeup",
                "彩妆",
                "Makeup",
                "general",
                (("口红", "Lipstick"), ("气垫粉底", "Cushion foundation")),
                (79, 499),
                80,
            ),
        ),
    ),
    Top(
        "home",
        "家居日用",
        "Home & Living",
        False,
        (
            Leaf(
                "bedding",
                "床上用品",
                "Bedding",
                "general",
                (("四件套", "Bedding set"), ("蚕丝被", "Silk duvet")),
                (199, 1999),
                2500,
            ),
            Leaf(
                "storage",
                "收纳整理",
                "Storage",
                "general",
                (("收纳箱", "Storage box"), ("衣架", "Hangers")),
                (19, 199),
                900,
            ),
        ),
    ),
    Top(
        "baby",
        "母婴",
        "Mother & Baby",
        True,
        (
            Leaf(
                "formula",
                "奶粉",
                "Infant formula",
                "food",
                (("婴儿配方奶粉", "Infant formula"),),
                (199, 499),
                900,
            ),
            Leaf(
                "toys",
                "玩具",
                "Toys",
                "general",
                (("积木", "Building blocks"), ("毛绒玩具", "Plush toy")),
                (49, 599),
                700,
            ),
        ),
    ),
    Top(
        "sports",
        "运动户外",
        "Sports & Outdoors",
        False,
        (
            Leaf(
                "running",
                "跑步装备",
                "Running",
                "apparel",
                (("跑步鞋", "Running shoes"), ("运动袜", "Sports socks")),
                (39, 899),
                600,
            ),
            Leaf(
                "camping",
                "露营",
                "Camping",
                "general",
                (("帐篷", "Tent"), ("折叠椅", "Folding chair")),
                (99, 1599),
                3500,
            ),
        ),
    ),
    Top(
        "books",
        "图书",
        "Books",
        False,
        (
            Leaf(
                "fiction",
                "小说",
                "Fiction",
                "books",
                (("长篇小说", "Novel"), ("短篇小说集", "Short stories")),
                (29, 128),
                450,
            ),
            Leaf(
                "children",
                "童书",
                "Children's Books",
                "books",
                (("绘本", "Picture book"), ("科普读物", "Science for kids")),
                (25, 98),
                400,
            ),
        ),
    ),
    Top(
        "fresh",
        "生鲜",
        "Fresh Food",
        False,
        (
            Leaf(
                "fruit",
                "水果",
                "Fruit",
                "food",
                (("赣南脐橙", "Gannan navel oranges"), ("阳光玫瑰葡萄", "Shine Muscat grapes")),
                (39, 199),
                5000,
            ),
            Leaf(
                "seafood",
                "海鲜水产",
                "Seafood",
                "food",
                (("大虾", "Prawns"), ("三文鱼", "Salmon")),
                (69, 399),
                1000,
            ),
        ),
    ),
)

BRANDS: tuple[tuple[str, str, str], ...] = (
    ("xinghe", "星河", "Xinghe"),
    ("yunfan", "云帆", "Yunfan"),
    ("qinghe", "青禾", "Qinghe"),
    ("musen", "木森", "Musen"),
    ("aurora", "北极光", "Aurora"),
    ("orangeo", "橙果", "Orangeo"),
    ("shanyu", "山屿", "Shanyu"),
    ("shiguang", "拾光", "Shiguang"),
    ("maitian", "麦田", "Maitian"),
    ("lanjing", "蓝鲸", "Lanjing"),
)

SERIES: tuple[tuple[str, str], ...] = (
    ("经典款", "Classic"),
    ("轻享版", "Lite"),
    ("进阶版", "Plus"),
    ("专业版", "Pro"),
    ("家庭装", "Family"),
    ("旅行款", "Travel"),
    ("2026 新款", "2026"),
)

# Product types: spec attributes (generate SKUs) and parameter attributes (shown only).
# Each attribute: code, name, name_en, kind, values as (zh, en).
TYPES: dict[str, tuple[str, str, tuple[tuple[str, str, str, str, tuple[tuple[str, str], ...]], ...]]] = {
    "apparel": (
        "服装",
        "Apparel",
        (
            (
                "colour",
                "颜色",
                "Colour",
                "spec",
                (("黑色", "Black"), ("白色", "White"), ("藏青", "Navy"), ("灰色", "Grey")),
            ),
            ("size", "尺码", "Size", "spec", (("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL"))),
            (
                "material",
                "面料",
                "Material",
                "param",
                (("纯棉", "Cotton"), ("涤纶", "Polyester"), ("羊毛", "Wool")),
            ),
        ),
    ),
    "electronics": (
        "数码电子",
        "Electronics",
        (
            (
                "colour",
                "颜色",
                "Colour",
                "spec",
                (("曜石黑", "Obsidian"), ("冰川白", "Glacier white"), ("远峰蓝", "Sierra blue")),
            ),
            (
                "storage",
                "存储容量",
                "Storage",
                "spec",
                (("128GB", "128 GB"), ("256GB", "256 GB"), ("512GB", "512 GB")),
            ),
            ("warranty", "保修", "Warranty", "param", (("一年", "1 year"), ("两年", "2 years"))),
        ),
    ),
    "food": (
        "食品",
        "Food",
        (
            (
                "package",
                "规格",
                "Package",
                "spec",
                (("单件装", "Single"), ("三件装", "Pack of 3"), ("礼盒装", "Gift box")),
            ),
            (
                "origin",
                "产地",
                "Origin",
                "param",
                (("浙江", "Zhejiang"), ("云南", "Yunnan"), ("江西", "Jiangxi"), ("福建", "Fujian")),
            ),
        ),
    ),
    "books": (
        "图书",
        "Books",
        (
            ("edition", "版本", "Edition", "spec", (("平装", "Paperback"), ("精装", "Hardcover"))),
            (
                "publisher",
                "出版社",
                "Publisher",
                "param",
                (("星河出版社", "Xinghe Press"), ("青禾文艺", "Qinghe Arts")),
            ),
        ),
    ),
    "general": (
        "通用商品",
        "General goods",
        (
            (
                "colour",
                "颜色",
                "Colour",
                "spec",
                (("米白", "Ivory"), ("浅灰", "Light grey"), ("雾蓝", "Mist blue"), ("墨绿", "Dark green")),
            ),
            ("warranty", "保修", "Warranty", "param", (("一年", "1 year"), ("无", "None"))),
        ),
    ),
}

WAREHOUSES: tuple[tuple[str, str, str, str, str, tuple[str, ...], int, int], ...] = (
    # code, name, kind, province, city, regions served, priority, handling cost (fen)
    (
        "SH-EAST",
        "华东仓（上海）",
        "regional",
        "上海市",
        "上海市",
        ("上海市", "江苏省", "浙江省", "安徽省"),
        10,
        500,
    ),
    (
        "GZ-SOUTH",
        "华南仓（广州）",
        "regional",
        "广东省",
        "广州市",
        ("广东省", "广西壮族自治区", "福建省", "海南省"),
        10,
        500,
    ),
    ("BJ-CENTRAL", "全国中心仓（北京）", "regional", "北京市", "北京市", ("*",), 50, 800),
    # a shop for store pickup (到店自提); it also ships within Shanghai when the warehouses cannot
    ("SH-STORE-JA", "静安门店（上海）", "store", "上海市", "上海市", ("上海市",), 90, 300),
)
#: Street addresses shown to shoppers choosing a store for pickup: code → (district, detail).
STORE_ADDRESSES = {"SH-STORE-JA": ("静安区", "南京西路 1601 号")}
