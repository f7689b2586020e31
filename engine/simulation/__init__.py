"""``budgetflow simulate``: requests of a population through the real diagrams, on a virtual clock.

- population.py (+ population_schema.py): the population file, laid over the default one, validated;
- calendar.py: business hours, working-hour arithmetic; draws.py: the random draws a file describes;
- runner.py: the discrete-event loop (arrivals, people's answers, timer polls, the outbox);
- people.py: what a simulated person submits; diagram.py: which timers are SLA escalations;
- report.py: what was measured; tally.py and figures.py: what the database says afterwards.
"""

from engine.simulation.figures import Figures, figures
from engine.simulation.population import Population, PopulationInvalid, load_population
from engine.simulation.report import PROCESS_CODES, SimulationReport
from engine.simulation.runner import Simulator

__all__ = ["PROCESS_CODES", "Figures", "Population", "PopulationInvalid", "SimulationReport", "Simulator",
           "figures", "load_population"]
