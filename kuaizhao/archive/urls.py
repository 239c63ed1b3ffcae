from django.urls import path

from kuaizhao.archive import feeds, outlet_pages, sitemaps, views

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("c/<slug:slug>/feed.atom", feeds.CategoryFeed(), name="category-feed"),
    path("s/<int:article_id>", views.snapshot, name="snapshot"),
    path("s/<int:article_id>/v/<int:number>", views.version, name="version"),
    path("s/<int:article_id>/diff", views.version_diff, name="version-diff"),
    path("search", views.search, name="search"),
    path("lookup", views.lookup, name="lookup"),
    path("img", views.archived_image, name="archived-image"),
    path("o/", outlet_pages.outlet_index, name="outlets"),
    path("o/<slug:slug>/", outlet_pages.outlet, name="outlet"),
    path("o/<slug:slug>/feed.atom", feeds.OutletFeed(), name="outlet-feed"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.section, name="sitemap-section"),
]
