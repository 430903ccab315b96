"""The public prompt suite: varied prompts across every mechanic, twists and paraphrases.

Each entry is (prompt, expected mechanic); "a+b" means both are built, side by side. ``tests/reasoner/test_suite.py`` builds every
one, and ``benchmarks/bench_reasoner.py`` times them.
"""

SUITE: list[tuple[str, str]] = [
    # bowling / skittles
    ("a bowling alley with ten pins; the score counts fallen pins", "bowling"),
    ("bowling with 15 red pins and a heavy steel ball", "bowling"),
    ("knock down six bottles with a bowling ball", "bowling"),
    ("a skittles lane with nine skittles", "bowling"),
    # billiards
    ("a pool table with fifteen balls", "billiards"),
    ("snooker: pot the balls with the cue ball", "billiards"),
    # dominoes
    ("a line of 30 dominoes", "dominoes"),
    ("twenty wooden dominoes in a curve; push the first one", "dominoes"),
    ("a domino chain of 25 tiles where gravity reverses every 5 seconds", "dominoes"),
    # stacking
    ("a jenga tower", "stacking"),
    ("stack wooden blocks into a tower and poke one out", "stacking"),
    # projectile
    ("a cannon firing at a pyramid of cans", "projectile"),
    ("a catapult hurling rocks at 12 cans", "projectile"),
    ("throw snowballs at cans", "projectile"),
    ("throw tennis balls at bottles on the moon", "projectile"),
    ("a coconut shy", "projectile"),
    ("shoot bullets at apples; after 10 apples the bullets look like apples", "projectile"),
    # goal sports
    ("a soccer field with two goals", "goal_sport"),
    ("two players play air hockey; first to 5 wins", "goal_sport"),
    ("ice hockey with a puck and two goals", "goal_sport"),
    ("basketball hoop shooting practice", "goal_sport"),
    # putting
    ("mini golf with a hole", "putting"),
    ("a putting green with a golf ball and 3 bumpers", "putting"),
    # ramps
    ("a marble run with three ramps", "ramp"),
    ("a ball rolls down a ramp into a cup", "ramp"),
    # plinko
    ("a plinko board", "plinko"),
    ("a pachinko machine with steel balls", "plinko"),
    # pendulums
    ("a newton's cradle with five steel balls", "pendulum"),
    ("a wrecking ball smashing blocks", "pendulum"),
    ("a pendulum knocking over pins", "pendulum"),
    # levers
    ("a seesaw with a ball on one end", "lever"),
    ("a lever launching a crate into the air", "lever"),
    # sliding
    ("curling on ice", "sliding"),
    ("a shuffleboard table with 4 pucks", "sliding"),
    # tilt maze
    ("a tilt maze with a marble", "tilt_maze"),
    ("roll a marble through a labyrinth to the exit", "tilt_maze"),
    # slopes
    ("a sled going down a snowy hill", "slope"),
    ("a boulder rolling down a mountain slope past trees", "slope"),
    # push to target
    ("a robot pushes a crate onto a target", "push"),
    ("push three boxes onto the green pads in 60 seconds", "push"),
    # zero-g
    ("asteroids floating in zero gravity", "zero_g"),
    ("a spaceship collects coins among floating crates with no gravity", "zero_g"),
    # physics words and twists on other mechanics
    ("super bouncy balls in a bowling alley with 10 pins on mars", "bowling"),
    ("a slippery ice rink with a curling stone; after 30 seconds gravity doubles", "sliding"),
    ("a bowling alley with 10 pins where the pins turn red when the ball hits them", "bowling"),
    # paraphrases and compositions
    ("ten pins, zero gravity", "bowling"),
    ("a giant bowling ball and 20 tiny pins", "bowling"),
    ("two players play soccer; first to 3 goals wins", "goal_sport"),
    ("a bowling lane next to a domino chain", "bowling+dominoes"),  # composed: both, either first
]
