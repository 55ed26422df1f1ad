"""Demo scenes (API operations with JSON Schemas) and manual test cases that exercise them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.database import session_scope
from db.models import Scene, TestCase

_CASE_FIELDS = ("title", "module", "preconditions", "steps", "expected_result", "priority", "scene_id")

DEMO_SCENES: list[dict[str, Any]] = [
    {
        "scene_id": "SC001",
        "name": "User registration",
        "module": "Account",
        "method": "POST",
        "path": "/api/v1/users",
        "summary": "Register a new user account; the username and email must not be taken yet.",
        "request_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "RegisterUserRequest",
            "type": "object",
            "required": ["username", "email", "password", "phone", "age", "agree_terms"],
            "additionalProperties": False,
            "properties": {
                "username": {
                    "type": "string",
                    "title": "用户名",
                    "description": "Login name: lower-case letters, digits and underscores, starting with a letter.",
                    "minLength": 3,
                    "maxLength": 16,
                    "pattern": "^[a-z][a-z0-9_]*$",
                },
                "email": {"type": "string", "title": "邮箱", "format": "email", "maxLength": 64},
                "password": {"type": "string", "title": "密码", "minLength": 8, "maxLength": 32},
                "phone": {
                    "type": "string",
                    "title": "手机号",
                    "description": "Mainland China mobile number, 11 digits.",
                    "pattern": "^1[3-9][0-9]{9}$",
                },
                "age": {"type": "integer", "title": "年龄", "minimum": 18, "maximum": 120},
                "gender": {"type": "string", "title": "性别", "enum": ["male", "female", "other"]},
                "birthday": {"type": "string", "title": "生日", "format": "date"},
                "invite_code": {"type": "string", "title": "邀请码", "format": "uuid"},
                "homepage": {"type": "string", "title": "个人主页", "format": "uri", "maxLength": 200},
                "tags": {
                    "type": "array",
                    "title": "兴趣标签",
                    "items": {"type": "string", "minLength": 1, "maxLength": 20},
                    "uniqueItems": True,
                    "maxItems": 5,
                },
                "agree_terms": {"type": "boolean", "title": "同意协议", "const": True},
            },
        },
        "responses": {
            "201": {
                "description": "User created.",
                "schema": {
                    "type": "object",
                    "required": ["id", "username", "email", "created_at"],
                    "properties": {
                        "id": {"type": "integer", "title": "用户ID"},
                        "username": {"type": "string", "title": "用户名"},
                        "email": {"type": "string", "title": "邮箱"},
                        "created_at": {"type": "string", "format": "date-time", "title": "注册时间"},
                    },
                },
            },
            "409": {
                "description": "Username, email or phone already registered.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
            "422": {
                "description": "The body breaks the request schema.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message", "errors"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
    {
        "scene_id": "SC002",
        "name": "Create order",
        "module": "Order",
        "method": "POST",
        "path": "/api/v1/orders",
        "summary": "Place an order with one or more line items and a shipping address.",
        "request_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "CreateOrderRequest",
            "type": "object",
            "required": ["customer_id", "currency", "items", "shipping_address"],
            "additionalProperties": False,
            "properties": {
                "customer_id": {"type": "integer", "title": "客户ID", "minimum": 1},
                "currency": {"type": "string", "title": "币种", "enum": ["CNY", "USD", "EUR"]},
                "items": {
                    "type": "array",
                    "title": "商品明细",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {
                        "type": "object",
                        "required": ["sku", "quantity", "unit_price"],
                        "additionalProperties": False,
                        "properties": {
                            "sku": {"type": "string", "title": "商品编码", "pattern": "^SKU-[0-9]{6}$"},
                            "quantity": {"type": "integer", "title": "数量", "minimum": 1, "maximum": 999},
                            "unit_price": {
                                "type": "number",
                                "title": "单价",
                                "exclusiveMinimum": 0,
                                "maximum": 100000,
                                "multipleOf": 0.01,
                            },
                            "gift_wrap": {"type": "boolean", "title": "礼品包装"},
                        },
                    },
                },
                "shipping_address": {
                    "type": "object",
                    "title": "收货地址",
                    "required": ["recipient", "phone", "province", "city", "street"],
                    "additionalProperties": False,
                    "properties": {
                        "recipient": {"type": "string", "title": "收货人", "minLength": 2, "maxLength": 32},
                        "phone": {"type": "string", "title": "联系电话", "pattern": "^1[3-9][0-9]{9}$"},
                        "province": {"type": "string", "title": "省份", "minLength": 2, "maxLength": 20},
                        "city": {"type": "string", "title": "城市", "minLength": 2, "maxLength": 20},
                        "street": {"type": "string", "title": "详细地址", "minLength": 5, "maxLength": 128},
                        "postal_code": {"type": "string", "title": "邮编", "pattern": "^[0-9]{6}$"},
                    },
                },
                "coupon_code": {"type": "string", "title": "优惠券码", "pattern": "^[A-Z0-9]{8}$"},
                "remark": {"type": "string", "title": "备注", "maxLength": 200},
                "delivery_date": {"type": "string", "title": "期望送达日期", "format": "date"},
            },
        },
        "responses": {
            "201": {
                "description": "Order placed, waiting for payment.",
                "schema": {
                    "type": "object",
                    "required": ["order_id", "status", "total_amount"],
                    "properties": {
                        "order_id": {"type": "string", "title": "订单号"},
                        "status": {"type": "string", "title": "订单状态", "const": "pending_payment"},
                        "total_amount": {"type": "number", "title": "订单金额"},
                    },
                },
            },
            "400": {
                "description": "The body breaks the request schema.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
            "409": {
                "description": "A SKU is out of stock.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
        },
    },
    {
        "scene_id": "SC003",
        "name": "Product search",
        "module": "Catalog",
        "method": "POST",
        "path": "/api/v1/products/search",
        "summary": "Search the catalogue with filters, sorting and paging.",
        "request_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "ProductSearchRequest",
            "type": "object",
            "required": ["page", "page_size"],
            "properties": {
                "keyword": {"type": "string", "title": "搜索关键词", "minLength": 1, "maxLength": 50},
                "category": {
                    "type": "string",
                    "title": "商品分类",
                    "enum": ["electronics", "clothing", "home", "books", "sports"],
                },
                "brand_ids": {
                    "type": "array",
                    "title": "品牌",
                    "items": {"type": "integer", "minimum": 1},
                    "minItems": 1,
                    "maxItems": 10,
                    "uniqueItems": True,
                },
                "price_min": {"type": "number", "title": "最低价格", "minimum": 0, "maximum": 100000},
                "price_max": {"type": "number", "title": "最高价格", "exclusiveMinimum": 0, "exclusiveMaximum": 1000000},
                "page": {"type": "integer", "title": "页码", "minimum": 1, "maximum": 1000},
                "page_size": {"type": "integer", "title": "每页条数", "minimum": 10, "maximum": 100, "multipleOf": 10},
                "sort": {
                    "type": "string",
                    "title": "排序方式",
                    "enum": ["relevance", "price_asc", "price_desc", "newest"],
                },
                "in_stock": {"type": "boolean", "title": "仅看有货"},
                "created_after": {"type": "string", "title": "上架时间起", "format": "date-time"},
            },
        },
        "responses": {
            "200": {
                "description": "One page of matching products.",
                "schema": {
                    "type": "object",
                    "required": ["items", "total", "page", "page_size"],
                    "properties": {
                        "items": {"type": "array", "title": "商品列表", "items": {"type": "object"}},
                        "total": {"type": "integer", "title": "总数"},
                        "page": {"type": "integer", "title": "页码"},
                        "page_size": {"type": "integer", "title": "每页条数"},
                    },
                },
            },
            "400": {
                "description": "Invalid filters or paging.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
        },
    },
    {
        "scene_id": "SC004",
        "name": "Password reset",
        "module": "Account",
        "method": "POST",
        "path": "/api/v1/password-resets",
        "summary": "Set a new password with the verification code sent by email.",
        "request_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "ResetPasswordRequest",
            "type": "object",
            "required": ["email", "verification_code", "new_password", "request_id"],
            "additionalProperties": False,
            "properties": {
                "email": {"type": "string", "title": "邮箱", "format": "email", "maxLength": 64},
                "verification_code": {"type": "string", "title": "验证码", "pattern": "^[0-9]{6}$"},
                "new_password": {"type": "string", "title": "新密码", "minLength": 8, "maxLength": 32},
                "request_id": {"type": "string", "title": "请求ID", "format": "uuid"},
            },
        },
        "responses": {
            "200": {
                "description": "Password changed.",
                "schema": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"type": "string", "title": "提示信息"}},
                },
            },
            "400": {
                "description": "The body breaks the request schema or the code is wrong.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
            "429": {
                "description": "Too many attempts.",
                "schema": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "title": "错误码"},
                        "message": {"type": "string", "title": "错误信息"},
                    },
                },
            },
        },
    },
]
"""Demo API operations; request schemas are JSON Schema 2020-12."""

DEMO_TEST_CASES: list[dict[str, Any]] = [
    {
        "title": "用户注册-正常注册成功",
        "module": "账号",
        "preconditions": "用户名 alice_chen、邮箱 alice@example.com 和手机号均未注册",
        "steps": "1. 调用注册接口 POST /api/v1/users\n2. 填写用户名、邮箱、密码、手机号、年龄，并同意协议\n3. 提交注册请求",
        "expected_result": "返回201，注册成功，响应中包含用户ID；返回的用户名与请求一致",
        "priority": "P0",
        "scene_id": "SC001",
    },
    {
        "title": "用户注册-手机号格式校验",
        "module": "账号",
        "preconditions": "其余注册字段均填写正确",
        "steps": "1. 准备一个合法的注册请求\n2. 手机号分别填写10位、12位和以2开头的号码\n3. 分别提交注册请求",
        "expected_result": "手机号格式错误时返回422，提示“手机号格式不正确”；手机号合法时返回201",
        "priority": "P1",
        "scene_id": "SC001",
    },
    {
        "title": "User registration - username length and characters",
        "module": "Account",
        "preconditions": "No user with the chosen usernames exists.",
        "steps": (
            "1. Register with a 3-character username\n2. Register with a 16-character username\n"
            "3. Register with a 2-character and a 17-character username\n"
            "4. Register with upper-case letters in the username"
        ),
        "expected_result": (
            "Usernames of 3 to 16 lower-case letters, digits or underscores are accepted with 201. "
            "A username with the wrong length is rejected with 422."
        ),
        "priority": "P1",
        "scene_id": "SC001",
    },
    {
        "title": "创建订单-商品数量边界值",
        "module": "订单",
        "preconditions": "客户已登录，商品 SKU-100001 库存充足",
        "steps": "1. 使用有效的客户ID和收货地址\n2. 商品明细中数量分别填写1和999\n3. 数量分别填写0和1000\n4. 分别提交订单",
        "expected_result": "数量为1或999时下单成功，返回201和订单号；数量为0或1000时返回400，提示“数量超出范围”",
        "priority": "P0",
        "scene_id": "SC002",
    },
    {
        "title": "Create order - shipping address required fields",
        "module": "Order",
        "preconditions": "A customer with a valid cart.",
        "steps": (
            "1. Build a valid order with one line item\n"
            "2. Remove recipient, phone, province, city or street from the shipping address, one at a time\n"
            "3. Submit each request"
        ),
        "expected_result": (
            "A request missing a required address field is rejected with 400. "
            "A complete address creates the order with 201."
        ),
        "priority": "P1",
        "scene_id": "SC002",
    },
    {
        "title": "创建订单-单价精度校验",
        "module": "订单",
        "preconditions": "商品 SKU-100001 在售",
        "steps": "1. 单价填写 0.01 和 100000\n2. 单价填写 0、-1 和三位小数 12.345\n3. 分别提交订单",
        "expected_result": "单价大于0且最多两位小数时下单成功返回201；否则返回400",
        "priority": "P2",
        "scene_id": "SC002",
    },
    {
        "title": "商品搜索-分页参数校验",
        "module": "商品",
        "preconditions": "商品库中至少有 200 件商品",
        "steps": "1. 页码填写1、每页条数填写10\n2. 每页条数填写100\n3. 页码填写0，每页条数填写15和110\n4. 分别发送搜索请求",
        "expected_result": "合法的页码和每页条数返回200，响应包含总数和商品列表；页码或每页条数不合法时返回400",
        "priority": "P1",
        "scene_id": "SC003",
    },
    {
        "title": "Product search - filter by category and price range",
        "module": "Catalog",
        "preconditions": "Products exist in every category.",
        "steps": (
            "1. Search with category electronics, price_min 100 and price_max 500\n"
            "2. Search with an unknown category\n3. Search with a negative price_min"
        ),
        "expected_result": (
            "Valid filters return 200 with the total. An unknown category or a negative price is rejected with 400."
        ),
        "priority": "P2",
        "scene_id": "SC003",
    },
    {
        "title": "密码重置-验证码格式校验",
        "module": "账号",
        "preconditions": "用户已通过邮箱获取6位数字验证码",
        "steps": "1. 填写邮箱、新密码和请求ID\n2. 验证码分别填写6位数字、5位数字和包含字母的6位字符\n3. 分别提交重置请求",
        "expected_result": "验证码为6位数字时返回200；格式错误时返回400，提示“验证码格式错误”",
        "priority": "P1",
        "scene_id": "SC004",
    },
    {
        "title": "Password reset - new password length",
        "module": "Account",
        "preconditions": "A valid verification code was sent to the user's email.",
        "steps": (
            "1. Reset with a new password of 8 characters\n2. Reset with 32 characters\n"
            "3. Reset with 7 and 33 characters"
        ),
        "expected_result": (
            "Passwords of 8 to 32 characters are accepted with 200; shorter or longer ones are rejected with 400."
        ),
        "priority": "P2",
        "scene_id": "SC004",
    },
]
"""Manual test cases as QA engineers write them, each linked to a demo scene by scene_id."""


def load() -> dict[str, int]:
    """Adds the demo scenes and test cases; scenes already present are left as they are."""
    with session_scope() as session:
        scenes = 0
        for spec in DEMO_SCENES:
            if session.get(Scene, spec["scene_id"]) is None:
                session.add(Scene(
                    id=spec["scene_id"], name=spec["name"], module=spec["module"], method=spec["method"],
                    path=spec["path"], summary=spec.get("summary", ""), request_schema=spec["request_schema"],
                    responses=spec["responses"],
                ))
                scenes += 1
        existing = set(session.scalars(select(TestCase.title)))
        cases = 0
        for spec in DEMO_TEST_CASES:
            if spec["title"] not in existing:
                session.add(TestCase(**{key: spec[key] for key in _CASE_FIELDS}))
                cases += 1
        return {"scenes": scenes, "test_cases": cases}


def load_if_empty() -> dict[str, int] | None:
    """Loads the demo data into a database that has no scenes and no test cases yet."""
    with session_scope() as session:
        if session.scalar(select(Scene.id).limit(1)) or session.scalar(select(TestCase.id).limit(1)):
            return None
    return load()
