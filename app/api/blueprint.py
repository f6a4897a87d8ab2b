"""The Blueprint every resource uses: argument errors are 400 (the contract), documented as such."""

from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class ContractParser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = ContractParser()
