import countrydata


def test_lookup_by_each_code():
    assert countrydata.get("se").name == "Sweden"
    assert countrydata.get("DEU").alpha_2 == "DE"
    assert countrydata.get(36).alpha_3 == "AUS"
    assert countrydata.get("XX") is None


def test_search_and_count():
    assert [c.alpha_2 for c in countrydata.search("united")] == ["AE", "GB", "US"]
    assert len(countrydata.all_countries()) == len({c.alpha_2 for c in countrydata.all_countries()})
