from slugify_ng import slugify


def test_basic():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("Ünïcödé & Friends — 2024!") == "unicode-and-friends-2024"
    assert slugify("Straße in Łódź") == "strasse-in-lodz"


def test_options():
    assert slugify("The Quick Brown Fox", stopwords=["the"]) == "quick-brown-fox"
    assert slugify("one two three", max_length=9) == "one-two"
    assert slugify("Keep Case", lowercase=False, separator="_") == "Keep_Case"
