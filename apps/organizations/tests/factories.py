import factory

from apps.organizations.models import Organization


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"Trading House {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} Private Limited")
    pan = "AABCT1234F"
