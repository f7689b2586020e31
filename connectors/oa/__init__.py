"""The OA suites: DingTalk (钉钉), WeCom (企业微信) and Feishu (飞书): their API clients and their callbacks."""
